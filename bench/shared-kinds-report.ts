import type { SharedKindsResult, SharedVariant } from './scenarios/shared-kinds';
import { median } from './stats';

/** Per variant, one row per round. */
export type SharedKindsTable = Partial<Record<SharedVariant, SharedKindsResult[]>>;

const LABELS: Record<SharedVariant, string> = {
  'ours-limit': '**nestjs-redis-lock** `limit: 3`',
  'redis-semaphore': 'redis-semaphore `Semaphore(3)`',
  'ours-read-write': "**nestjs-redis-lock** `mode: 'read'` / `'write'`",
  'ours-mutex': 'nestjs-redis-lock, every section exclusive',
};

/** The markdown of the counting-limit and read-mostly scenarios. */
export function sharedKindsSection(title: string, text: string, table: SharedKindsTable): string[] {
  const lines = [`## ${title}`, '', text, ''];
  lines.push('| variant | sections/s | most inside at once | wait p99 ms | failures |', '|---|---|---|---|---|');
  for (const variant of Object.keys(table) as SharedVariant[]) {
    const rows = table[variant]!;
    const cell = (f: (r: SharedKindsResult) => number, digits: number) => median(rows.map(f)).toFixed(digits);
    lines.push(
      `| ${LABELS[variant]} | ${cell((r) => r.sectionsPerSec, 0)} | ${Math.max(...rows.map((r) => r.mostInside))} | ${cell((r) => r.waitP99, 1)} | ${rows.reduce((s, r) => s + r.failures, 0)} |`,
    );
  }
  lines.push('');
  return lines;
}
