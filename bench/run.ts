import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisServer } from '../test/support/redis-server';
import { ALL, type AdapterName, type LockAdapter, WAITING, createAdapter } from './adapters';
import { type Results, writeReport } from './report';
import { pingRtt } from './redis-stats';
import { DecoratorRouteServer, type RouteVariant } from './scenarios/decorator-route';
import { HandoffWorkers } from './scenarios/handoff-two-processes';
import { steadyContention } from './scenarios/steady-contention';
import { type SectionRunner, type SharedVariant, createRunner, sharedSections } from './scenarios/shared-kinds';
import { uncontendedConcurrent, uncontendedSequential } from './scenarios/uncontended';
import { shuffle } from './stats';

/**
 * `npm run bench`: every library side by side on one redis-server of our own (free loopback port),
 * interleaved in rounds (the round-trip time here swings several-fold from second to second), each
 * round in a fresh random order. Writes bench/results/latest.md and the handoff-two-processes chart.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
// Every round: the route's added latency swings more than the others from round to round (3 rounds
// once put it at +0.71 ms where an isolated 5-round run of the same build gave +0.37 ms).
const HTTP_ROUNDS = ROUNDS;
const UNCONTENDED_SEQUENTIAL = { ops: 2_000 };
const UNCONTENDED_CONCURRENT = { callers: 64, opsEach: 100 };
const HANDOFF_TWO_PROCESSES = { callers: 32, processes: 2, holdMs: 5 };
const STEADY_CONTENTION = { callers: 8, sections: 100, holdMs: 1, budgetMs: 8_000 };
const COUNTING_LIMIT = { callers: 12, sections: 20, limit: 3, holdMs: 5, budgetMs: 8_000 };
const READ_MOSTLY = { callers: 12, sections: 20, holdMs: 5, writeEvery: 10, budgetMs: 8_000 };
const COUNTING_VARIANTS: SharedVariant[] = ['ours-limit', 'redis-semaphore'];
const READ_MOSTLY_VARIANTS: SharedVariant[] = ['ours-read-write', 'ours-mutex'];
const DECORATOR_ROUTE = { seconds: 3, sequential: 1_000 };
const SOAK_CYCLES = Number(process.env.BENCH_SOAK_CYCLES ?? 200_000);

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const admin = server.client();
  const names = [...new Set([...ALL, ...WAITING])];
  const adapters = new Map<AdapterName, LockAdapter>();
  const workers = new Map<AdapterName, HandoffWorkers>();
  let http: DecoratorRouteServer | undefined;
  const runners = new Map<SharedVariant, SectionRunner>();
  const results: Results = {
    rounds: ROUNDS,
    rtt: [],
    'uncontended-sequential': {},
    'uncontended-concurrent': {},
    'handoff-two-processes': {},
    'handoff-two-processes-client-commands': {},
    'steady-contention': {},
    'counting-limit': {},
    'read-mostly': {},
    'decorator-route': {},
    soak: undefined,
  };
  try {
    for (const name of names) adapters.set(name, await createAdapter(name, server.url));
    for (const name of WAITING)
      workers.set(name, await HandoffWorkers.start(name, server.url, HANDOFF_TWO_PROCESSES.processes));
    http = await DecoratorRouteServer.start(server.url);
    for (const variant of [...COUNTING_VARIANTS, ...READ_MOSTLY_VARIANTS]) {
      runners.set(variant, await createRunner(variant, server.url, COUNTING_LIMIT.limit));
    }
    // Warm-up: connections, scripts, JIT.
    for (const name of ALL) await uncontendedSequential(adapters.get(name)!, -1, 200);

    for (let round = 0; round < ROUNDS; round++) {
      log(`round ${round + 1}/${ROUNDS}`);
      results.rtt.push(await pingRtt(admin));
      for (const name of shuffle(ALL)) {
        const adapter = adapters.get(name)!;
        push(
          results['uncontended-sequential'],
          name,
          await uncontendedSequential(adapter, round, UNCONTENDED_SEQUENTIAL.ops),
        );
      }
      for (const name of shuffle(ALL)) {
        const { callers, opsEach } = UNCONTENDED_CONCURRENT;
        push(
          results['uncontended-concurrent'],
          name,
          await uncontendedConcurrent(adapters.get(name)!, round, callers, opsEach),
        );
      }
      for (const name of shuffle(WAITING)) {
        const { callers, holdMs } = HANDOFF_TWO_PROCESSES;
        const key = `handoff-two-processes:${round}`;
        push(results['handoff-two-processes'], name, await workers.get(name)!.run(admin, key, callers, holdMs));
      }
      for (const name of shuffle(WAITING)) {
        const { callers, sections, holdMs, budgetMs } = STEADY_CONTENTION;
        push(
          results['steady-contention'],
          name,
          await steadyContention(adapters.get(name)!, round, callers, sections, holdMs, budgetMs),
        );
      }
      if (round < HTTP_ROUNDS) {
        for (const variant of shuffle<RouteVariant>(['plain', 'locked', 'redlock'])) {
          const { seconds, sequential } = DECORATOR_ROUTE;
          push(results['decorator-route'], variant, await http.load(variant, seconds, sequential));
        }
      }
    }
    // Last: these run under withLock, whose AsyncLocalStorage turns on Node's promise hooks for the
    // rest of the process, so every promise of every library costs more from then on. Run among
    // the others, they cut the uncontended ratios of the rounds after the first (ours more: it
    // makes more promises per lock), which the baseline figures were never measured under.
    for (let round = 0; round < ROUNDS; round++) {
      log(`shared kinds, round ${round + 1}/${ROUNDS}`);
      for (const variant of shuffle(COUNTING_VARIANTS)) {
        const { callers, sections, holdMs, budgetMs } = COUNTING_LIMIT;
        const result = await sharedSections(
          runners.get(variant)!,
          `counting-limit:${round}`,
          callers,
          sections,
          holdMs,
          0,
          budgetMs,
        );
        push(results['counting-limit'], variant, result);
      }
      for (const variant of shuffle(READ_MOSTLY_VARIANTS)) {
        const { callers, sections, holdMs, writeEvery, budgetMs } = READ_MOSTLY;
        const result = await sharedSections(
          runners.get(variant)!,
          `read-mostly:${round}`,
          callers,
          sections,
          holdMs,
          writeEvery,
          budgetMs,
        );
        push(results['read-mostly'], variant, result);
      }
    }
    log('handoff-two-processes client commands (untimed, under MONITOR)');
    for (const name of WAITING) {
      const { callers, holdMs } = HANDOFF_TWO_PROCESSES;
      results['handoff-two-processes-client-commands'][name] = await workers
        .get(name)!
        .clientCommandsPerSection(admin, 'handoff-two-processes:monitor', callers, holdMs);
    }
    log(`soak of ${SOAK_CYCLES} cycles`);
    results.soak = await soak(server.url, SOAK_CYCLES);
  } finally {
    await http?.close();
    for (const runner of runners.values()) await runner.close();
    for (const group of workers.values()) await group.close();
    for (const adapter of adapters.values()) await adapter.close();
    await server.stop();
  }
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 1)}\n`);
  const report = writeReport(results, dir, { redisVersion: await redisVersion() });
  console.log(report);
}

async function soak(url: string, cycles: number) {
  const child = fork(join(__dirname, 'soak-worker.js'), [String(cycles)], {
    env: { ...process.env, REDIS_URL: url },
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const bound = { signal: AbortSignal.timeout(300_000) }; // the soak takes seconds; never wait forever
  const [message] = (await once(child, 'message', bound)) as [Results['soak']];
  await once(child, 'exit', bound);
  return message;
}

async function redisVersion(): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  return (
    execFileSync('redis-server', ['--version'])
      .toString()
      .match(/v=([\d.]+)/)?.[1] ?? 'unknown'
  );
}

function push<T>(table: Record<string, T[]>, name: string, value: T): void {
  (table[name] ??= []).push(value);
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
