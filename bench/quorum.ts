import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisServer } from '../test/support/redis-server';
import { type AdapterName, type LockAdapter, QUORUM, createAdapter } from './adapters';
import { HandoffWorkers } from './scenarios/handoff-two-processes';
import { uncontendedSequential } from './scenarios/uncontended';
import { median, shuffle } from './stats';

/**
 * `npm run bench:quorum`: the quorum (Redlock) mode on three redis-servers of our own, side by side
 * with redlock on the same three masters: uncontended-sequential and handoff-two-processes,
 * interleaved in rounds as in run.ts. Writes bench/results/quorum.md. BENCH_ROUNDS=1 is a quick check.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const NODES = 3;
const UNCONTENDED_SEQUENTIAL = { ops: 1_000 };
const HANDOFF_TWO_PROCESSES = { callers: 32, processes: 2, holdMs: 5 };

async function main(): Promise<void> {
  const servers = await Promise.all(Array.from({ length: NODES }, () => RedisServer.start()));
  const urls = servers.map((server) => server.url).join(',');
  const admin = servers[0]!.client();
  const adapters = new Map<AdapterName, LockAdapter>();
  const workers = new Map<AdapterName, HandoffWorkers>();
  const sequential: Partial<Record<AdapterName, { opsPerSec: number; p50: number }[]>> = {};
  const handoff: Partial<Record<AdapterName, { makespan: number; gapP50: number; failures: number }[]>> = {};
  try {
    for (const name of QUORUM) adapters.set(name, await createAdapter(name, urls));
    for (const name of QUORUM)
      workers.set(name, await HandoffWorkers.start(name, urls, HANDOFF_TWO_PROCESSES.processes));
    for (const name of QUORUM) await uncontendedSequential(adapters.get(name)!, -1, 200); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      process.stderr.write(`[bench:quorum] round ${round + 1}/${ROUNDS}\n`);
      for (const name of shuffle(QUORUM)) {
        const result = await uncontendedSequential(adapters.get(name)!, round, UNCONTENDED_SEQUENTIAL.ops);
        (sequential[name] ??= []).push(result);
      }
      for (const name of shuffle(QUORUM)) {
        const { callers, holdMs } = HANDOFF_TWO_PROCESSES;
        // redlock's retries can livelock on several masters (split votes): a round that never ends
        // counts as failed instead of ending the benchmark.
        const result = await workers
          .get(name)!
          .run(admin, `handoff-two-processes:quorum:${round}`, callers, holdMs)
          .catch(() => ({ makespan: Number.NaN, gapP50: Number.NaN, failures: callers }));
        (handoff[name] ??= []).push(result);
      }
    }
  } finally {
    for (const group of workers.values()) await group.close();
    for (const adapter of adapters.values()) await adapter.close();
    await Promise.all(servers.map((server) => server.stop()));
  }
  const lines = [
    '# Quorum benchmark (3 independent redis-servers, loopback)',
    '',
    `- date: ${new Date().toISOString()}, ${ROUNDS} round(s), medians over rounds`,
    '',
    '| library | uncontended-sequential ops/s | p50 ms | handoff-two-processes makespan ms (ideal 160) | handoff gap p50 ms | failures |',
    '| --- | --- | --- | --- | --- | --- |',
    ...QUORUM.map((name) => {
      const seq = sequential[name] ?? [];
      const hand = handoff[name] ?? [];
      const cells = [
        median(seq.map((row) => row.opsPerSec)).toFixed(0),
        median(seq.map((row) => row.p50)).toFixed(2),
        median(hand.map((row) => row.makespan)).toFixed(0),
        median(hand.map((row) => row.gapP50)).toFixed(2),
        String(hand.reduce((sum, row) => sum + row.failures, 0)),
      ];
      return `| ${name} | ${cells.join(' | ')} |`;
    }),
    '',
  ];
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'quorum.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
