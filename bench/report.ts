import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { AdapterName } from './adapters';
import type { HttpResult, RouteVariant } from './scenarios/decorator-route';
import type { HandoffResult } from './scenarios/handoff-two-processes';
import type { SteadyContentionResult } from './scenarios/steady-contention';
import { median } from './stats';
import { cdfChart } from './svg-chart';
import { type SharedKindsTable, sharedKindsSection } from './shared-kinds-report';

/** Per scenario (named as in bench/scenarios and the Redis keys it uses), one row per library per round. */
export interface Results {
  rounds: number;
  rtt: number[];
  'uncontended-sequential': Partial<Record<AdapterName, { opsPerSec: number; p50: number; p99: number }[]>>;
  'uncontended-concurrent': Partial<Record<AdapterName, { opsPerSec: number }[]>>;
  'handoff-two-processes': Partial<Record<AdapterName, HandoffResult[]>>;
  /** Client commands (round trips) per section, from one untimed run under MONITOR. */
  'handoff-two-processes-client-commands': Partial<Record<AdapterName, number>>;
  'steady-contention': Partial<Record<AdapterName, SteadyContentionResult[]>>;
  /** Counting locks: 12 callers, limit 3; ours against redis-semaphore's Semaphore. */
  'counting-limit': SharedKindsTable;
  /** Read-write locks when reads dominate: ours against the mutex for every section. */
  'read-mostly': SharedKindsTable;
  'decorator-route': Partial<Record<RouteVariant, HttpResult[]>>;
  soak:
    { cycles: number; seconds: number; heapGrowthMb: number; handlesBefore: number; handlesAfter: number } | undefined;
}

const OURS: AdapterName = 'nestjs-redis-lock';
const BASELINE: AdapterName = 'raw-ioredis';
/** Libraries (not references): "best peer" is the best of these in each round. */
const PEERS: AdapterName[] = ['redlock-default', 'redlock-tuned', 'redis-semaphore', 'redlock-universal'];
/** The handoff-two-processes chart, next to latest.md. */
const HANDOFF_CHART = 'handoff-two-processes-waits.svg';
/** handoff-two-processes: 32 callers one after another, 5 ms each. */
const IDEAL_HANDOFF_MAKESPAN = 32 * 5;
/** "A few times": the bound on steady-contention's max wait, in multiples of callers × hold. */
const FEW = 4;

/** Writes latest.md and the handoff-two-processes chart into `dir`; returns the markdown. */
export function writeReport(results: Results, dir: string, env: { redisVersion: string }): string {
  const lines: string[] = [];
  const rounds = results.rounds;
  const round =
    (i: number) =>
    <T>(list: T[] | undefined) =>
      list?.[i];
  const perRound = <T>(f: (i: number) => T | undefined) =>
    Array.from({ length: rounds }, (_, i) => f(i)).filter((v): v is T => v !== undefined && !Number.isNaN(v));
  /** Per round: `name`'s metric over the best peer's that round (`kind`: which end is best). */
  const vsBestPeer = <R>(
    table: Partial<Record<AdapterName, R[]>>,
    name: AdapterName,
    metric: (row: R) => number,
    kind: 'min' | 'max',
  ) => {
    const at = (library: AdapterName, i: number) => {
      const row = table[library]?.[i];
      return row === undefined ? undefined : metric(row);
    };
    return perRound((i) =>
      ratio(
        at(name, i),
        best(
          PEERS.map((peer) => at(peer, i)),
          kind,
        ),
      ),
    );
  };

  lines.push('# Benchmark results', '');
  lines.push(`- date: ${new Date().toISOString()}`);
  lines.push(
    `- machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  );
  lines.push(`- node ${process.version}, redis-server ${env.redisVersion} (loopback, started by the benchmark)`);
  lines.push(`- versions: ${versions()}`);
  lines.push(
    `- ${rounds} interleaved rounds, libraries in a fresh random order each round; ratios are the median of per-round ratios`,
  );
  lines.push(`- Redis round trip (PING) per round, ms: ${results.rtt.map((v) => v.toFixed(3)).join(', ')}`);
  lines.push('');

  // uncontended-sequential and uncontended-concurrent.
  for (const [title, table] of [
    ['uncontended-sequential: acquire + release one after another on distinct keys', results['uncontended-sequential']],
    ['uncontended-concurrent: 64 concurrent callers on distinct keys', results['uncontended-concurrent']],
  ] as const) {
    lines.push(`## ${title}`, '');
    const hasLatency = table === results['uncontended-sequential'];
    lines.push(`| library | ops/s | ${hasLatency ? 'p50 ms | p99 ms | ' : ''}× raw baseline | × best peer |`);
    lines.push(`|---|---|${hasLatency ? '---|---|' : ''}---|---|`);
    for (const name of Object.keys(table) as AdapterName[]) {
      const rows = table[name]!;
      const vsBase = perRound((i) => ratio(round(i)(rows)?.opsPerSec, round(i)(table[BASELINE])?.opsPerSec));
      const vsPeer = vsBestPeer(
        table as Partial<Record<AdapterName, { opsPerSec: number }[]>>,
        name,
        (r) => r.opsPerSec,
        'max',
      );
      const latency = hasLatency
        ? `${fmt(median(rows.map((r) => (r as { p50: number }).p50)), 3)} | ${fmt(median(rows.map((r) => (r as { p99: number }).p99)), 3)} | `
        : '';
      lines.push(
        `| ${label(name)} | ${fmt(median(rows.map((r) => r.opsPerSec)), 0)} | ${latency}${fmt(median(vsBase), 2)} | ${fmt(median(vsPeer), 2)} |`,
      );
    }
    lines.push('');
  }

  // handoff-two-processes.
  const handoff = results['handoff-two-processes'];
  const handoffClientCommands = results['handoff-two-processes-client-commands'];
  lines.push('## handoff-two-processes: one-shot contention across processes', '');
  lines.push(
    `32 callers over 2 OS processes, released together, one key, each acquires once, holds 5 ms, releases. Ideal makespan ${IDEAL_HANDOFF_MAKESPAN} ms.`,
    '',
  );
  lines.push(
    '| library | makespan ms | × ideal | × best peer | handoff gap p50 ms | gap p99 ms | wait p99 ms | commands / section (all, incl. in scripts) | client commands / section | failures |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const name of Object.keys(handoff) as AdapterName[]) {
    const rows = handoff[name]!;
    const vsPeer = vsBestPeer(handoff, name, (r) => r.makespan, 'min');
    lines.push(
      `| ${label(name)} | ${fmt(median(rows.map((r) => r.makespan)), 0)} | ${fmt(median(rows.map((r) => r.makespan / IDEAL_HANDOFF_MAKESPAN)), 2)} | ${fmt(median(vsPeer), 2)} | ${fmt(median(rows.map((r) => r.gapP50)), 2)} | ${fmt(median(rows.map((r) => r.gapP99)), 1)} | ${fmt(median(rows.map((r) => r.waitP99)), 0)} | ${fmt(median(rows.map((r) => r.commandsPerSection)), 1)} | ${fmt(handoffClientCommands[name], 1)} | ${rows.reduce((s, r) => s + r.failures, 0)} |`,
    );
  }
  lines.push('', `![handoff-two-processes wait times](${HANDOFF_CHART})`, '');
  const chart = cdfChart(
    'handoff-two-processes: time from the common start to holding the lock (all rounds)',
    'wait, ms (log scale)',
    (Object.keys(handoff) as AdapterName[]).map((name) => ({
      name: label(name).replace(/\*/g, ''),
      values: handoff[name]!.flatMap((r) => r.waits),
    })),
  );
  writeFileSync(join(dir, HANDOFF_CHART), chart);

  // steady-contention.
  const steady = results['steady-contention'];
  lines.push('## steady-contention: one key, one process', '');
  lines.push(
    '8 callers × 100 critical sections of 1 ms on one key, one process (a caller stops starting sections after 8 s).',
    '',
  );
  lines.push(
    '| library | sections/s | × best peer | lock held (share of wall time) | handoffs to another caller | wait p99 ms | wait max ms | failures |',
  );
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const name of Object.keys(steady) as AdapterName[]) {
    const rows = steady[name]!;
    const vsPeer = vsBestPeer(steady, name, (r) => r.sectionsPerSec, 'max');
    lines.push(
      `| ${label(name)} | ${fmt(median(rows.map((r) => r.sectionsPerSec)), 0)} | ${fmt(median(vsPeer), 2)} | ${pct(median(rows.map((r) => r.heldShare)))} | ${pct(median(rows.map((r) => r.handoffToOther)))} | ${fmt(median(rows.map((r) => r.waitP99)), 1)} | ${fmt(median(rows.map((r) => r.waitMax)), 1)} | ${rows.reduce((s, r) => s + r.failures, 0)} |`,
    );
  }
  lines.push('');

  lines.push(
    ...sharedKindsSection(
      'counting-limit: at most 3 holders of one key',
      "12 callers × 20 sections of 5 ms on one key with a limit of 3, one process: ours against redis-semaphore's `Semaphore` (its default retry interval).",
      results['counting-limit'],
    ),
    ...sharedKindsSection(
      'read-mostly: what sharing buys when reads dominate',
      '12 callers × 20 sections of 5 ms on one key, one in 10 a write, one process: a read-write lock against an exclusive lock for every section (no Node peer has a read-write lock).',
      results['read-mostly'],
    ),
  );

  // decorator-route.
  const route = results['decorator-route'];
  lines.push('## decorator-route: the decorator over HTTP', '');
  lines.push(
    'A Nest (Express) route, a fresh key per request (uncontended). Latency: 1,000 requests one at a time on one keep-alive connection. Throughput: autocannon, 10 connections, 3 s per variant per round (load generator, server and Redis share the 2 cores).',
    '',
  );
  lines.push(
    '| route | sequential p50 ms | p99 ms | added p50 ms | requests/s under load | × bare route | load p50 ms | load p99 ms | errors |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|');
  const plain = route.plain ?? [];
  for (const variant of Object.keys(route) as RouteVariant[]) {
    const rows = route[variant]!;
    const vsPlain = perRound((i) => ratio(rows[i]?.requestsPerSec, plain[i]?.requestsPerSec));
    const added = perRound((i) => (rows[i] && plain[i] ? rows[i]!.sequentialP50 - plain[i]!.sequentialP50 : undefined));
    lines.push(
      `| ${{ plain: 'bare route', locked: '@WithLock (this library)', redlock: '@Redlock (@anchan828/nest-redlock)' }[variant]} | ${fmt(median(rows.map((r) => r.sequentialP50)), 3)} | ${fmt(median(rows.map((r) => r.sequentialP99)), 3)} | ${fmt(median(added), 3)} | ${fmt(median(rows.map((r) => r.requestsPerSec)), 0)} | ${fmt(median(vsPlain), 2)} | ${fmt(median(rows.map((r) => r.p50)), 0)} | ${fmt(median(rows.map((r) => r.p99)), 0)} | ${rows.reduce((s, r) => s + r.errors, 0)} |`,
    );
  }
  lines.push('', `Two Redis round trips at the median PING of this run: ${fmt(2 * median(results.rtt), 3)} ms.`, '');

  // soak.
  lines.push('## soak', '');
  if (results.soak) {
    const s = results.soak;
    lines.push(
      `${s.cycles} acquire/release cycles (16 concurrent loops) in ${fmt(s.seconds, 1)} s: heap growth after GC ${fmt(s.heapGrowthMb, 2)} MB, active handles ${s.handlesBefore} before, ${s.handlesAfter} after.`,
      '',
    );
  }

  // Targets.
  lines.push('## Targets', '');
  const ours = (table: Partial<Record<AdapterName, unknown[]>>) => (table[OURS] ?? []) as never[];
  const vsBaseline = (table: Partial<Record<AdapterName, { opsPerSec: number }[]>>) =>
    median(perRound((i) => ratio(table[OURS]?.[i]?.opsPerSec, table[BASELINE]?.[i]?.opsPerSec)));
  const sequentialBase = vsBaseline(results['uncontended-sequential']);
  const concurrentBase = vsBaseline(results['uncontended-concurrent']);
  const handoffRows: HandoffResult[] = ours(handoff);
  const handoffIdeal = median(handoffRows.map((r) => r.makespan / IDEAL_HANDOFF_MAKESPAN));
  const handoffPeer = median(vsBestPeer(handoff, OURS, (r) => r.makespan, 'min'));
  const handoffGap = median(handoffRows.map((r) => r.gapP50));
  const handoffCommands = handoffClientCommands[OURS] ?? Number.NaN;
  const steadyRows: SteadyContentionResult[] = ours(steady);
  const steadyHeld = median(steadyRows.map((r) => r.heldShare));
  const steadyOther = median(steadyRows.map((r) => r.handoffToOther));
  const steadyMax = median(steadyRows.map((r) => r.waitMax));
  const routeAdded = median(
    perRound((i) =>
      route.locked?.[i] && plain[i] ? route.locked[i]!.sequentialP50 - plain[i]!.sequentialP50 : undefined,
    ),
  );
  const routePeerAdded = median(
    perRound((i) =>
      route.redlock?.[i] && plain[i] ? route.redlock[i]!.sequentialP50 - plain[i]!.sequentialP50 : undefined,
    ),
  );
  const routeRtt = 2 * median(results.rtt);
  const routeLoad = median(
    perRound((i) => ratio(route.locked?.[i]?.requestsPerSec, route.redlock?.[i]?.requestsPerSec)),
  );
  const uncontendedPeer = (table: Partial<Record<AdapterName, { opsPerSec: number }[]>>) =>
    median(vsBestPeer(table, OURS, (r) => r.opsPerSec, 'max'));
  const sequentialPeer = uncontendedPeer(results['uncontended-sequential']);
  const concurrentPeer = uncontendedPeer(results['uncontended-concurrent']);
  const target = (ok: boolean, text: string) => lines.push(`- ${ok ? 'met' : 'NOT met'}: ${text}`);
  // The performance issue's targets (ratios are medians of per-round ratios).
  target(sequentialBase >= 0.9, `uncontended-sequential ≥ 0.9× the raw baseline's ops/s: ${fmt(sequentialBase, 2)}×`);
  target(sequentialPeer >= 1, `uncontended-sequential ≥ 1.0× the best peer's ops/s: ${fmt(sequentialPeer, 2)}×`);
  target(concurrentBase >= 0.9, `uncontended-concurrent ≥ 0.9× the raw baseline's ops/s: ${fmt(concurrentBase, 2)}×`);
  target(concurrentPeer >= 1, `uncontended-concurrent ≥ 1.0× the best peer's ops/s: ${fmt(concurrentPeer, 2)}×`);
  target(
    handoffIdeal <= 1.15,
    `handoff-two-processes makespan ≤ 1.15× ideal: ${fmt(handoffIdeal, 2)}× (${fmt(handoffPeer, 2)}× the best peer's)`,
  );
  target(handoffGap <= 1, `handoff-two-processes handoff gap p50 ≤ 1 ms: ${fmt(handoffGap, 2)} ms`);
  target(
    handoffCommands <= 10,
    `handoff-two-processes ≤ 10 Redis commands per critical section: ${fmt(handoffCommands, 1)} client commands (${fmt(median(handoffRows.map((r) => r.commandsPerSection)), 1)} counting those run inside scripts)`,
  );
  target(steadyHeld >= 0.9, `steady-contention lock held ≥ 90% of the wall time: ${pct(steadyHeld)}`);
  target(steadyOther > 0.5, `steady-contention most handoffs go to a different caller: ${pct(steadyOther)}`);
  target(
    steadyMax <= FEW * 8 * 1,
    `steady-contention max wait within ${FEW}× callers × hold (${FEW * 8} ms): ${fmt(steadyMax, 1)} ms`,
  );
  target(
    routeAdded <= routePeerAdded,
    `decorator-route added latency p50 ≤ @anchan828/nest-redlock's: +${fmt(routeAdded, 3)} ms against +${fmt(routePeerAdded, 3)} ms (2 × PING = ${fmt(routeRtt, 3)} ms)`,
  );
  target(routeLoad >= 1, `decorator-route requests/s under load ≥ @anchan828/nest-redlock's: ${fmt(routeLoad, 2)}×`);
  if (results.soak) {
    target(results.soak.heapGrowthMb < 5, `soak heap growth < 5 MB: ${fmt(results.soak.heapGrowthMb, 2)} MB`);
    target(
      results.soak.handlesAfter <= results.soak.handlesBefore,
      `soak no growth in active handles: ${results.soak.handlesBefore} → ${results.soak.handlesAfter}`,
    );
  }
  lines.push(
    '',
    'Reproduce: `npm run bench` (needs `redis-server` on the PATH; `BENCH_ROUNDS=N` sets the rounds).',
    '',
  );
  const markdown = lines.join('\n');
  writeFileSync(join(dir, 'latest.md'), markdown);
  return markdown;
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function best(values: (number | undefined)[], kind: 'min' | 'max'): number | undefined {
  const present = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (present.length === 0) return undefined;
  return kind === 'min' ? Math.min(...present) : Math.max(...present);
}

function fmt(value: number | undefined, digits: number): string {
  return value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
}

function pct(value: number): string {
  return Number.isNaN(value) ? '–' : `${(value * 100).toFixed(0)}%`;
}

function label(name: AdapterName): string {
  return {
    'nestjs-redis-lock': '**nestjs-redis-lock**',
    'raw-ioredis': 'raw ioredis (SET NX PX + compare-and-delete)',
    'redlock-default': 'redlock (defaults)',
    'redlock-tuned': 'redlock (retry 10±5 ms, unlimited)',
    'redis-semaphore': 'redis-semaphore Mutex',
    'redlock-universal': 'redlock-universal',
    'spin-1ms': 'reference: 1 ms spin lock',
    'nestjs-redis-lock-quorum': '**nestjs-redis-lock, quorum of 3**',
    'redlock-quorum': 'redlock on 3 masters (retry 10±5 ms, unlimited)',
  }[name];
}

function versions(): string {
  const root = join(__dirname, '..', '..');
  const version = (name: string) => {
    try {
      return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version as string;
    } catch {
      return '?';
    }
  };
  const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
  return [
    `nestjs-redis-lock ${ours}`,
    ...[
      'ioredis',
      'redlock',
      'redis-semaphore',
      'redlock-universal',
      '@anchan828/nest-redlock',
      '@nestjs/core',
      'autocannon',
    ].map((name) => `${name} ${version(name)}`),
  ].join(', ');
}
