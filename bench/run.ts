import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RedisServer } from '../test/support/redis-server';
import { ALL, type AdapterName, type LockAdapter, WAITING, createAdapter } from './adapters';
import { type Results, writeReport } from './report';
import { pingRtt } from './redis-stats';
import { DecoratorServer, type RouteVariant } from './scenarios/decorator';
import { OneShotWorkers } from './scenarios/one-shot';
import { steady } from './scenarios/steady';
import { concurrent, sequential } from './scenarios/uncontended';
import { shuffle } from './stats';

/**
 * `npm run bench`: every library side by side on one redis-server of our own (free loopback port),
 * interleaved in rounds (the round-trip time here swings several-fold from second to second), each
 * round in a fresh random order. Writes bench/results/latest.md and the scenario 3 chart.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const HTTP_ROUNDS = Math.min(ROUNDS, 3);
const S1_OPS = 2_000;
const S2_CALLERS = 64;
const S2_OPS_EACH = 100;
const S3 = { callers: 32, processes: 2, holdMs: 5 };
const S4 = { callers: 8, sections: 100, holdMs: 1, budgetMs: 8_000 };
const S5_SECONDS = 3;
const S5_SEQUENTIAL = 1_000;
const S6_CYCLES = Number(process.env.BENCH_SOAK_CYCLES ?? 200_000);

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const admin = server.client();
  const names = [...new Set([...ALL, ...WAITING])];
  const adapters = new Map<AdapterName, LockAdapter>();
  const workers = new Map<AdapterName, OneShotWorkers>();
  let http: DecoratorServer | undefined;
  const results: Results = { rounds: ROUNDS, rtt: [], s1: {}, s2: {}, s3: {}, s3ClientCommands: {}, s4: {}, s5: {}, s6: undefined };
  try {
    for (const name of names) adapters.set(name, await createAdapter(name, server.url));
    for (const name of WAITING) workers.set(name, await OneShotWorkers.start(name, server.url, S3.processes));
    http = await DecoratorServer.start(server.url);
    // Warm-up: connections, scripts, JIT.
    for (const name of ALL) await sequential(adapters.get(name)!, -1, 200);

    for (let round = 0; round < ROUNDS; round++) {
      log(`round ${round + 1}/${ROUNDS}`);
      results.rtt.push(await pingRtt(admin));
      for (const name of shuffle(ALL)) push(results.s1, name, await sequential(adapters.get(name)!, round, S1_OPS));
      for (const name of shuffle(ALL)) {
        push(results.s2, name, await concurrent(adapters.get(name)!, round, S2_CALLERS, S2_OPS_EACH));
      }
      for (const name of shuffle(WAITING)) {
        push(results.s3, name, await workers.get(name)!.run(admin, `s3:${round}`, S3.callers, S3.holdMs));
      }
      for (const name of shuffle(WAITING)) {
        push(results.s4, name, await steady(adapters.get(name)!, round, S4.callers, S4.sections, S4.holdMs, S4.budgetMs));
      }
      if (round < HTTP_ROUNDS) {
        for (const variant of shuffle<RouteVariant>(['plain', 'locked', 'redlock'])) {
          push(results.s5, variant, await http.load(variant, S5_SECONDS, S5_SEQUENTIAL));
        }
      }
    }
    log('scenario 3 client commands (untimed, under MONITOR)');
    for (const name of WAITING) {
      results.s3ClientCommands[name] = await workers
        .get(name)!
        .clientCommandsPerSection(admin, 's3:monitor', S3.callers, S3.holdMs);
    }
    log(`scenario 6: soak of ${S6_CYCLES} cycles`);
    results.s6 = await soak(server.url, S6_CYCLES);
  } finally {
    await http?.close();
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
  const [message] = (await once(child, 'message', bound)) as [Results['s6']];
  await once(child, 'exit', bound);
  return message;
}

async function redisVersion(): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  return execFileSync('redis-server', ['--version']).toString().match(/v=([\d.]+)/)?.[1] ?? 'unknown';
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
