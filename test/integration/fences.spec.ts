import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockService } from '../../lib';
import { FENCE_RETENTION } from '../../lib/core/tuning';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep } from '../support/wait-for';

/** The server's clock in microseconds, as the acquire script reads it. */
async function serverMicros(server: RedisServer): Promise<number> {
  const [seconds, micros] = await server.client().time();
  return Number(seconds) * 1_000_000 + Number(micros);
}

async function fenceOf(locks: LockService, key: string): Promise<number> {
  const lock = await locks.acquire(key);
  await lock.release();
  return lock.fence;
}

describe('fence counters on a real redis-server', () => {
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

  it('a new counter is seeded from the server clock in microseconds, then counts up by one', async () => {
    const before = await serverMicros(server);
    const first = await fenceOf(locks, 'seeded');
    const after = await serverMicros(server);
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThanOrEqual(after);
    expect(Number.isSafeInteger(first)).toBe(true);
    expect(await fenceOf(locks, 'seeded')).toBe(first + 1);
    expect(await server.client().get('lock:{seeded}:fence')).toBe(String(first + 1));
  });

  it('counters expire a while after the last lease, so per-entity keys do not pile up', async () => {
    await fenceOf(locks, 'order:1');
    const left = await server.client().pttl('lock:{order:1}:fence');
    expect(left).toBeGreaterThan(FENCE_RETENTION);
    expect(left).toBeLessThanOrEqual(2_000 + FENCE_RETENTION);
    const multi = await locks.acquire(['order:2', 'order:3']);
    await multi.release();
    for (const key of ['lock:{order:2}:fence', 'lock:{order:3}:fence']) {
      expect(await server.client().pttl(key)).toBeGreaterThan(FENCE_RETENTION);
    }
  });

  it('fences keep increasing when a counter has expired', async () => {
    let last = 0;
    for (let i = 0; i < 20; i++) last = await fenceOf(locks, 'expiring');
    await server.client().pexpire('lock:{expiring}:fence', 1);
    await sleep(20);
    expect(await server.client().exists('lock:{expiring}:fence')).toBe(0);
    expect(await fenceOf(locks, 'expiring')).toBeGreaterThan(last);
  });

  it('a multi-key lock gets a fence above every key\'s counter, also when one counter is missing', async () => {
    let a = 0;
    for (let i = 0; i < 5; i++) a = await fenceOf(locks, 'pair:a');
    const both = await locks.acquire(['pair:a', 'pair:b']);
    await both.release();
    expect(both.fence).toBeGreaterThan(a);
    expect(await fenceOf(locks, 'pair:b')).toBe(both.fence + 1);
    expect(await fenceOf(locks, 'pair:a')).toBe(both.fence + 1);
  });

  it('fences stay strictly increasing across a Redis restart that lost every key', async () => {
    let last = 0;
    for (let i = 0; i < 50; i++) last = await fenceOf(locks, 'restart');
    await server.restart(); // SIGKILL, then an empty server on the same port
    expect(await server.client().exists('lock:{restart}:fence')).toBe(0);
    let next = 0;
    const end = Date.now() + 10_000;
    while (!next && Date.now() < end) {
      next = await fenceOf(locks, 'restart').catch(() => 0); // until the client has reconnected
      if (!next) await sleep(100);
    }
    expect(next).toBeGreaterThan(last);
  });
});
