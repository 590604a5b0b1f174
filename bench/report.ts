import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { AdapterName } from './adapters';
import type { HttpResult, RouteVariant } from './scenarios/decorator';
import type { OneShotResult } from './scenarios/one-shot';
import type { SteadyResult } from './scenarios/steady';
import { median } from './stats';
import { cdfChart } from './svg-chart';

export interface Results {
  rounds: number;
  rtt: number[];
  s1: Partial<Record<AdapterName, { opsPerSec: number; p50: number; p99: number }[]>>;
  s2: Partial<Record<AdapterName, { opsPerSec: number }[]>>;
  s3: Partial<Record<AdapterName, OneShotResult[]>>;
  s3ClientCommands: Partial<Record<AdapterName, number>>;
  s4: Partial<Record<AdapterName, SteadyResult[]>>;
  s5: Partial<Record<RouteVariant, HttpResult[]>>;
  s6: { cycles: number; seconds: number; heapGrowthMb: number; handlesBefore: number; handlesAfter: number } | undefined;
}

const OURS: AdapterName = 'nestjs-redis-lock';
const BASELINE: AdapterName = 'raw-ioredis';
/** Libraries (not references): "best peer" is the best of these in each round. */
const PEERS: AdapterName[] = ['redlock-default', 'redlock-tuned', 'redis-semaphore', 'redlock-universal'];
const IDEAL_S3 = 32 * 5;
/** "A few times": the bound on scenario 4's max wait, in multiples of callers × hold. */
const FEW = 4;

/** Writes latest.md and the scenario 3 chart into `dir`; returns the markdown. */
export function writeReport(results: Results, dir: string, env: { redisVersion: string }): string {
  const lines: string[] = [];
  const rounds = results.rounds;
  const round = (i: number) => <T>(list: T[] | undefined) => list?.[i];
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
    return perRound((i) => ratio(at(name, i), best(PEERS.map((peer) => at(peer, i)), kind)));
  };

  lines.push('# Benchmark results', '');
  lines.push(`- date: ${new Date().toISOString()}`);
  lines.push(`- machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
  lines.push(`- node ${process.version}, redis-server ${env.redisVersion} (loopback, started by the benchmark)`);
  lines.push(`- versions: ${versions()}`);
  lines.push(`- ${rounds} interleaved rounds, libraries in a fresh random order each round; ratios are the median of per-round ratios`);
  lines.push(`- Redis round trip (PING) per round, ms: ${results.rtt.map((v) => v.toFixed(3)).join(', ')}`);
  lines.push('');

  // Scenarios 1 and 2.
  for (const [title, table] of [
    ['1. Uncontended, sequential acquire + release on distinct keys', results.s1],
    ['2. Uncontended, 64 concurrent callers on distinct keys', results.s2],
  ] as const) {
    lines.push(`## ${title}`, '');
    const hasLatency = table === results.s1;
    lines.push(`| library | ops/s | ${hasLatency ? 'p50 ms | p99 ms | ' : ''}× raw baseline | × best peer |`);
    lines.push(`|---|---|${hasLatency ? '---|---|' : ''}---|---|`);
    for (const name of Object.keys(table) as AdapterName[]) {
      const rows = table[name]!;
      const vsBase = perRound((i) => ratio(round(i)(rows)?.opsPerSec, round(i)(table[BASELINE])?.opsPerSec));
      const vsPeer = vsBestPeer(table as Partial<Record<AdapterName, { opsPerSec: number }[]>>, name, (r) => r.opsPerSec, 'max');
      const latency = hasLatency
        ? `${fmt(median(rows.map((r) => (r as { p50: number }).p50)), 3)} | ${fmt(median(rows.map((r) => (r as { p99: number }).p99)), 3)} | `
        : '';
      lines.push(`| ${label(name)} | ${fmt(median(rows.map((r) => r.opsPerSec)), 0)} | ${latency}${fmt(median(vsBase), 2)} | ${fmt(median(vsPeer), 2)} |`);
    }
    lines.push('');
  }

  // Scenario 3.
  lines.push('## 3. One-shot contention across processes', '');
  lines.push(`32 callers over 2 OS processes, released together, one key, each acquires once, holds 5 ms, releases. Ideal makespan ${IDEAL_S3} ms.`, '');
  lines.push('| library | makespan ms | × ideal | × best peer | handoff gap p50 ms | gap p99 ms | wait p99 ms | commands / section (all, incl. in scripts) | client commands / section | failures |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const name of Object.keys(results.s3) as AdapterName[]) {
    const rows = results.s3[name]!;
    const vsPeer = vsBestPeer(results.s3, name, (r) => r.makespan, 'min');
    lines.push(
      `| ${label(name)} | ${fmt(median(rows.map((r) => r.makespan)), 0)} | ${fmt(median(rows.map((r) => r.makespan / IDEAL_S3)), 2)} | ${fmt(median(vsPeer), 2)} | ${fmt(median(rows.map((r) => r.gapP50)), 2)} | ${fmt(median(rows.map((r) => r.gapP99)), 1)} | ${fmt(median(rows.map((r) => r.waitP99)), 0)} | ${fmt(median(rows.map((r) => r.commandsPerSection)), 1)} | ${fmt(results.s3ClientCommands[name], 1)} | ${rows.reduce((s, r) => s + r.failures, 0)} |`,
    );
  }
  lines.push('', '![scenario 3 wait times](scenario3-waits.svg)', '');
  const chart = cdfChart(
    'Scenario 3: time from the common start to holding the lock (all rounds)',
    'wait, ms (log scale)',
    (Object.keys(results.s3) as AdapterName[]).map((name) => ({
      name: label(name).replace(/\*/g, ''),
      values: results.s3[name]!.flatMap((r) => r.waits),
    })),
  );
  writeFileSync(join(dir, 'scenario3-waits.svg'), chart);

  // Scenario 4.
  lines.push('## 4. Steady contention', '');
  lines.push('8 callers × 100 critical sections of 1 ms on one key, one process (a caller stops starting sections after 8 s).', '');
  lines.push('| library | sections/s | × best peer | lock held (share of wall time) | handoffs to another caller | wait p99 ms | wait max ms | failures |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const name of Object.keys(results.s4) as AdapterName[]) {
    const rows = results.s4[name]!;
    const vsPeer = vsBestPeer(results.s4, name, (r) => r.sectionsPerSec, 'max');
    lines.push(
      `| ${label(name)} | ${fmt(median(rows.map((r) => r.sectionsPerSec)), 0)} | ${fmt(median(vsPeer), 2)} | ${pct(median(rows.map((r) => r.heldShare)))} | ${pct(median(rows.map((r) => r.handoffToOther)))} | ${fmt(median(rows.map((r) => r.waitP99)), 1)} | ${fmt(median(rows.map((r) => r.waitMax)), 1)} | ${rows.reduce((s, r) => s + r.failures, 0)} |`,
    );
  }
  lines.push('');

  // Scenario 5.
  lines.push('## 5. The decorator over HTTP', '');
  lines.push(
    'A Nest (Express) route, a fresh key per request (uncontended). Latency: 1,000 requests one at a time on one keep-alive connection. Throughput: autocannon, 10 connections, 3 s per variant per round (load generator, server and Redis share the 2 cores).',
    '',
  );
  lines.push('| route | sequential p50 ms | p99 ms | added p50 ms | requests/s under load | × bare route | load p50 ms | load p99 ms | errors |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  const plain = results.s5.plain ?? [];
  for (const variant of Object.keys(results.s5) as RouteVariant[]) {
    const rows = results.s5[variant]!;
    const vsPlain = perRound((i) => ratio(rows[i]?.requestsPerSec, plain[i]?.requestsPerSec));
    const added = perRound((i) => (rows[i] && plain[i] ? rows[i]!.sequentialP50 - plain[i]!.sequentialP50 : undefined));
    lines.push(
      `| ${{ plain: 'bare route', locked: '@WithLock (this library)', redlock: '@Redlock (@anchan828/nest-redlock)' }[variant]} | ${fmt(median(rows.map((r) => r.sequentialP50)), 3)} | ${fmt(median(rows.map((r) => r.sequentialP99)), 3)} | ${fmt(median(added), 3)} | ${fmt(median(rows.map((r) => r.requestsPerSec)), 0)} | ${fmt(median(vsPlain), 2)} | ${fmt(median(rows.map((r) => r.p50)), 0)} | ${fmt(median(rows.map((r) => r.p99)), 0)} | ${rows.reduce((s, r) => s + r.errors, 0)} |`,
    );
  }
  lines.push('', `Two Redis round trips at the median PING of this run: ${fmt(2 * median(results.rtt), 3)} ms.`, '');

  // Scenario 6.
  lines.push('## 6. Soak', '');
  if (results.s6) {
    const s = results.s6;
    lines.push(`${s.cycles} acquire/release cycles (16 concurrent loops) in ${fmt(s.seconds, 1)} s: heap growth after GC ${fmt(s.heapGrowthMb, 2)} MB, active handles ${s.handlesBefore} before, ${s.handlesAfter} after.`, '');
  }

  // Targets.
  lines.push('## Targets', '');
  const ours = (table: Partial<Record<AdapterName, unknown[]>>) => (table[OURS] ?? []) as never[];
  const s1Base = median(perRound((i) => ratio(results.s1[OURS]?.[i]?.opsPerSec, results.s1[BASELINE]?.[i]?.opsPerSec)));
  const s2Base = median(perRound((i) => ratio(results.s2[OURS]?.[i]?.opsPerSec, results.s2[BASELINE]?.[i]?.opsPerSec)));
  const s3Rows: OneShotResult[] = ours(results.s3);
  const s3Ideal = median(s3Rows.map((r) => r.makespan / IDEAL_S3));
  const s3Peer = median(vsBestPeer(results.s3, OURS, (r) => r.makespan, 'min'));
  const s3Gap = median(s3Rows.map((r) => r.gapP50));
  const s3Commands = results.s3ClientCommands[OURS] ?? Number.NaN;
  const s4Rows: SteadyResult[] = ours(results.s4);
  const s4Held = median(s4Rows.map((r) => r.heldShare));
  const s4Other = median(s4Rows.map((r) => r.handoffToOther));
  const s4Max = median(s4Rows.map((r) => r.waitMax));
  const s5Added = median(
    perRound((i) => (results.s5.locked?.[i] && plain[i] ? results.s5.locked[i]!.sequentialP50 - plain[i]!.sequentialP50 : undefined)),
  );
  const s5Rtt = 2 * median(results.rtt);
  const target = (ok: boolean, text: string) => lines.push(`- ${ok ? 'met' : 'NOT met'}: ${text}`);
  target(s1Base >= 0.9, `scenario 1 ≥ 0.9× the raw baseline's ops/s: ${fmt(s1Base, 2)}×`);
  target(s2Base >= 0.9, `scenario 2 ≥ 0.9× the raw baseline's ops/s: ${fmt(s2Base, 2)}×`);
  target(s3Ideal <= 1.15, `scenario 3 makespan ≤ 1.15× ideal: ${fmt(s3Ideal, 2)}×`);
  target(s3Peer <= 0.55, `scenario 3 makespan ≤ 0.55× the best peer's: ${fmt(s3Peer, 2)}×`);
  target(s3Gap <= 1, `scenario 3 handoff gap p50 ≤ 1 ms: ${fmt(s3Gap, 2)} ms`);
  target(s3Commands <= 10, `scenario 3 ≤ 10 Redis commands per critical section: ${fmt(s3Commands, 1)} client commands (${fmt(median(s3Rows.map((r) => r.commandsPerSection)), 1)} counting those run inside scripts)`);
  target(s4Held >= 0.85, `scenario 4 lock held ≥ 85% of the wall time: ${pct(s4Held)}`);
  target(s4Other > 0.5, `scenario 4 most handoffs go to a different caller: ${pct(s4Other)}`);
  target(s4Max <= FEW * 8 * 1, `scenario 4 max wait within ${FEW}× callers × hold (${FEW * 8} ms): ${fmt(s4Max, 1)} ms`);
  target(s5Added <= s5Rtt * 1.5, `scenario 5 the lock adds no more than its two round trips per request: +${fmt(s5Added, 3)} ms sequential p50, against 2 × PING = ${fmt(s5Rtt, 3)} ms (met within 1.5× of it)`);
  if (results.s6) {
    target(results.s6.heapGrowthMb < 5, `scenario 6 heap growth < 5 MB: ${fmt(results.s6.heapGrowthMb, 2)} MB`);
    target(results.s6.handlesAfter <= results.s6.handlesBefore, `scenario 6 no growth in active handles: ${results.s6.handlesBefore} → ${results.s6.handlesAfter}`);
  }
  lines.push('', 'Reproduce: `npm run bench` (needs `redis-server` on the PATH; `BENCH_ROUNDS=N` sets the rounds).', '');
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
    ...['ioredis', 'redlock', 'redis-semaphore', 'redlock-universal', '@anchan828/nest-redlock', '@nestjs/core', 'autocannon'].map(
      (name) => `${name} ${version(name)}`,
    ),
  ].join(', ');
}
