import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockService } from '../../lib';
import { fenceCounterOf } from '../../lib/core/keys/store-keys';
import { FENCE_BLOCK } from '../../lib/core/tuning';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep } from '../support/wait-for';

/** The server's clock in microseconds, as the acquire script reads it. */
async function serverMicros(server: RedisServer): Promise<number> {
  const [seconds, micros] = await server.client().time();
  return Number(seconds) * 1_000_000 + Number(micros);
}

async function fenceOf(locks: LockService, key: string | string[]): Promise<number> {
  const lock = await locks.acquire(key);
  await lock.release();
  return lock.fence;
}

/** Every key in the server (SCAN, not KEYS: the way one would look at a production keyspace). */
async function everyKey(server: RedisServer): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await server.client().scan(cursor, 'COUNT', 1_000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** The fence of `key`, once the client has reconnected to a restarted server. */
async function fenceAfterRestart(locks: LockService, key: string): Promise<number> {
  const end = Date.now() + 10_000;
  for (;;) {
    const fence = await fenceOf(locks, key).catch((error: unknown) => (Date.now() < end ? 0 : Promise.reject(error)));
    if (fence) return fence;
    await sleep(100);
  }
}

describe('fences on a real redis-server', () => {
  let server: RedisServer;
  let module: TestingModule;
  let locks: LockService;

  beforeAll(async () => {
    server = await RedisServer.start();
    ({ module, locks } = await lockModule({ redis: server.url, ttl: 2_000, wait: 0, storeTimeout: 1_000 }));
  });

  afterAll(async () => {
    await module?.close();
    await server?.stop();
  });

  it('a fence is the server clock in microseconds (or above its slot counter), and reserves a block', async () => {
    const before = await serverMicros(server);
    const first = await fenceOf(locks, 'seeded');
    const after = await serverMicros(server);
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(after);
    expect(Number.isSafeInteger(first)).toBe(true);
    // The counter holds the slot's last fence: the block from it is reserved for its hand-overs.
    expect(await server.client().get(fenceCounterOf('lock:{seeded}'))).toBe(String(first));
    expect(await fenceOf(locks, 'seeded')).toBeGreaterThanOrEqual(first + FENCE_BLOCK);
  });

  it("the holder's fence is written beside its token, and nothing is left once the lease ends", async () => {
    const lock = await locks.acquire('beside');
    expect(await server.client().get('lock:{beside}')).toBe(`${lock.token} ${lock.fence}`);
    await lock.release();
    await server.client().flushall();
    const keys = Array.from({ length: 200 }, (_, i) => `order:${i}`);
    for (const key of keys) await fenceOf(locks, key);
    await fenceOf(locks, ['order:a', 'order:b']);
    const left = await everyKey(server);
    // Only the counters of the slots used (never expiring, at most 16,384), no key per lock key.
    expect(left.length).toBeGreaterThan(0);
    expect(left.length).toBeLessThanOrEqual(keys.length + 2);
    expect(new Set(left)).toEqual(
      new Set([...keys, 'order:a', 'order:b'].map((key) => fenceCounterOf(`lock:{${key}}`))),
    );
    expect(left.filter((key) => key.startsWith('lock:'))).toEqual([]);
  });

  it('fences keep increasing when a counter is ahead of the clock, or missing', async () => {
    const counter = fenceCounterOf('lock:{ahead}');
    const ahead = (await serverMicros(server)) + 3_600_000_000; // an hour ahead
    await server.client().set(counter, ahead);
    expect(await fenceOf(locks, 'ahead')).toBe(ahead + FENCE_BLOCK);
    expect(await fenceOf(locks, 'ahead')).toBe(ahead + 2 * FENCE_BLOCK);
    await server.client().del(counter);
    const last = await fenceOf(locks, 'ahead');
    expect(last).toBeGreaterThan((await serverMicros(server)) - 1_000_000);
  });

  it("a multi-key lock gets a fence above every key's counter", async () => {
    const ahead = (await serverMicros(server)) + 3_600_000_000;
    await server.client().set(fenceCounterOf('lock:{pair:a}'), ahead);
    const both = await locks.acquire(['pair:a', 'pair:b']);
    await both.release();
    expect(both.fence).toBe(ahead + FENCE_BLOCK);
    expect(await fenceOf(locks, 'pair:b')).toBeGreaterThan(both.fence);
    expect(await fenceOf(locks, 'pair:a')).toBeGreaterThan(both.fence);
  });

  it('fences stay strictly increasing across a Redis restart that lost every key', async () => {
    let last = 0;
    for (let i = 0; i < 50; i++) last = await fenceOf(locks, 'restart');
    await server.restart(); // SIGKILL, then an empty server on the same port
    expect(await server.client().exists(fenceCounterOf('lock:{restart}'))).toBe(0);
    expect(await fenceAfterRestart(locks, 'restart')).toBeGreaterThan(last);
  });

  it('fences stay above every one issued before a restart from an older snapshot (SAVE, more grants, SIGKILL)', async () => {
    const issued: number[] = [];
    for (let i = 0; i < 5; i++) issued.push(await fenceOf(locks, 'snapshot'));
    await server.client().save();
    for (let i = 0; i < 20; i++) issued.push(await fenceOf(locks, 'snapshot'));
    const last = Math.max(...issued);
    await server.restart(); // SIGKILL, then the server loads the snapshot: its counter is old
    const restored = Number(await server.client().get(fenceCounterOf('lock:{snapshot}')));
    expect(restored).toBeGreaterThan(0);
    expect(restored).toBeLessThan(last);
    const after = [await fenceAfterRestart(locks, 'snapshot')];
    for (let i = 0; i < 4; i++) after.push(await fenceOf(locks, 'snapshot'));
    for (const fence of after) {
      expect(fence).toBeGreaterThan(last);
      expect(issued).not.toContain(fence);
    }
  });
});
