import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { Logger } from '@nestjs/common';
import { LockService, RedisLockModule } from '../lib';
import { RedisStore } from '../lib/stores/redis/redis.store';
import { SCRIPTS, defineScripts } from '../lib/stores/redis/script-commands';
import { withFenceKeys } from '../lib/core/keys/store-keys';
import { RedisServer } from '../test/support/redis-server';

/**
 * What one uncontended acquire + release costs, layer by layer, against raw `SET NX PX` +
 * compare-and-delete on the same server: interleaved rounds, a fresh key per pair, the median of
 * per-round ratios; this process' CPU time per pair (user + system: the Node side, immune to
 * waiting on a loaded machine); and Redis' own time per pair from INFO commandstats.
 *   node dist-bench/bench/uncontended-micro.js [pairs=2000] [rounds=5]
 */
const PAIRS = Number(process.argv[2] ?? 2_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type Pair = (key: string) => Promise<void>;

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const admin = server.client();
  const raw = new Redis(server.url);
  raw.defineCommand('rawRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  const rawRelease = raw as unknown as { rawRelease(key: string, token: string): Promise<number> };
  const direct = new Redis(server.url);
  defineScripts(direct);
  const scripts = direct as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  const store = new RedisStore(new Redis(server.url), true, 2_000, new Logger('micro'));
  const app = await NestFactory.createApplicationContext(RedisLockModule.forRoot({ redis: server.url }), {
    logger: false,
  });
  const locks = app.get(LockService);
  let n = 0;
  const variants: Record<string, Pair> = {
    raw: async (key) => {
      const token = `t${++n}`;
      if ((await raw.set(key, token, 'PX', 10_000, 'NX')) !== 'OK') throw new Error('busy');
      await rawRelease.rawRelease(key, token);
    },
    // The store's scripts sent straight through ioredis: what the store adds is the rest.
    scripts: async (key) => {
      const token = `t${++n}`;
      const keys = withFenceKeys([`lock:{${key}}`]);
      if (Number(await scripts[SCRIPTS.acquire]!(2, ...keys, token, 10_000, 16)) <= 0) throw new Error('busy');
      await scripts[SCRIPTS.release]!(1, keys[0]!, token, 'publish', '');
    },
    store: async (key) => {
      const token = `t${++n}`;
      const keys = [`lock:{${key}}`];
      if ((await store.tryAcquire({ kind: 'mutex', keys, token, ttl: 10_000 })).fence === null) throw new Error('busy');
      await store.release({ kind: 'mutex', keys, token });
    },
    tryAcquire: async (key) => {
      const lock = await locks.tryAcquire(key, { ttl: 10_000 });
      if (!lock) throw new Error('busy');
      await lock.release();
    },
    acquire: async (key) => {
      const lock = await locks.acquire(key, { ttl: 10_000, wait: 0 });
      await lock.release();
    },
  };
  // MICRO_VARIANTS=raw,store limits the run (e.g. under --cpu-prof).
  const names = process.env.MICRO_VARIANTS?.split(',') ?? Object.keys(variants);
  const ratios: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const redisUs: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const cpuUs: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) for (let i = 0; i < 300; i++) await variants[name]!(`warm:${name}:${i}`);
  for (let round = 0; round < ROUNDS; round++) {
    const perPair: Record<string, number> = {};
    for (const name of round % 2 ? [...names].reverse() : names) {
      await admin.config('RESETSTAT');
      const start = performance.now();
      const cpu = process.cpuUsage();
      for (let i = 0; i < PAIRS; i++) await variants[name]!(`${name}:${round}:${i}`);
      perPair[name] = ((performance.now() - start) * 1000) / PAIRS;
      const used = process.cpuUsage(cpu);
      cpuUs[name]!.push((used.user + used.system) / PAIRS);
      redisUs[name]!.push(redisTime(String(await admin.info('commandstats')), name) / PAIRS);
    }
    for (const name of names) ratios[name]!.push((perPair.raw ?? NaN) / perPair[name]!);
    console.log(`round ${round}: ${names.map((name) => `${name} ${perPair[name]!.toFixed(1)} us`).join(', ')}`);
  }
  for (const name of names) {
    console.log(
      `${name.padEnd(10)} ${median(ratios[name]!).toFixed(2)}x raw (ops/s ratio), ` +
        `Node CPU ${median(cpuUs[name]!).toFixed(1)} us/pair, Redis time ${median(redisUs[name]!).toFixed(1)} us/pair`,
    );
  }
  await app.close();
  await store.close();
  raw.disconnect();
  direct.disconnect();
  await server.stop();
}

/**
 * Microseconds Redis spent on the commands clients sent since the last RESETSTAT: EVALSHA (which
 * includes the commands its script calls; those are counted again under their own names) and the
 * raw baseline's SET, which no script here sends (theirs run inside EVALSHA).
 */
function redisTime(info: string, name: string): number {
  const usec = (command: string) =>
    Number(new RegExp(`^cmdstat_${command}:calls=\\d+,usec=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return usec('evalsha') + (name === 'raw' ? usec('set') : 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
