import type { TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lock, LockService } from '../lib';
import type { LockStore } from '../lib/interfaces/lock-store.interface';
import { LOCK_STORE } from '../lib/redis-lock.tokens';
import { FaultProxy } from './support/fault-proxy';
import { RedisServer } from './support/redis-server';
import { lockModule } from './support/stores';
import { sleep, waitFor } from './support/wait-for';

/**
 * Edges of the optimistic hand-over found by review, each a test that failed before its fix: a
 * refused receiver's fence is never issued again, and a waiter that leaves without the lock handed
 * to it (it gave up in the same turn, its subscription failed) does not strand the key.
 */
describe('optimistic hand-over: refusals and waiters that leave', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let direct: Redis;
  let n = 0;
  const key = () => `hand-over-edge-${++n}`;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await FaultProxy.start(server.port);
    direct = server.client();
  });

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  /**
   * A waiter queued and listening; from then on its polls answer "busy" locally (no Redis call), so
   * it is an idle head whatever the machine's load (the state the optimistic path requires).
   */
  async function idleWaiter(
    module: TestingModule,
    locks: LockService,
    k: string,
    options: { wait?: number; signal?: AbortSignal } = {},
  ): Promise<{ waiting: Promise<Lock> }> {
    const store = module.get<LockStore>(LOCK_STORE);
    const waiting = locks.acquire(k, { wait: options.wait ?? 10_000, signal: options.signal });
    waiting.catch(() => undefined);
    await waitFor(async () => Number((await direct.pubsub('NUMSUB', `lock:{${k}}:released`))[1]) >= 1, 5_000);
    store.tryAcquire = async () => ({ fence: null, remaining: 5_000 });
    await sleep(50); // any real attempt in flight has been answered
    return { waiting };
  }

  it('a refused receiver ran with fence F+1: the next holder gets a higher one', async () => {
    const a = await lockModule({ redis: server.url, ttl: 30_000 });
    const b = await lockModule({ redis: server.url, ttl: 30_000 });
    try {
      const k = key();
      const holder = await a.locks.acquire(k, { autoRenew: false });
      const { waiting } = await idleWaiter(a.module, a.locks, k);
      await direct.del(`lock:{${k}}`); // the giver's lease is gone from Redis (expiry, eviction, failover, admin)
      await holder.release();
      const receiver = await waiting;
      const usedFence = receiver.fence; // the receiver did its fenced writes with this
      await waitFor(() => receiver.signal.aborted, 5_000);
      const next = await b.locks.acquire(k);
      await next.release();
      expect(next.fence).toBeGreaterThan(usedFence);
    } finally {
      await a.module.close();
      await b.module.close();
    }
  });

  it('a waiter whose signal aborts in the turn the holder releases leaves the key free, not held by its token', async () => {
    const a = await lockModule({ redis: server.url, ttl: 30_000 });
    try {
      const k = key();
      const holder = await a.locks.acquire(k, { autoRenew: false });
      const controller = new AbortController();
      const { waiting } = await idleWaiter(a.module, a.locks, k, { signal: controller.signal });
      controller.abort(); // e.g. the client disconnected
      const released = holder.release(); // same turn (e.g. an abort listener, or a continuation queued first)
      const outcome = await waiting.then((lock) => lock, (error: unknown) => error);
      expect(outcome).toBe(controller.signal.reason);
      expect(await released).toBe(true);
      await waitFor(async () => (await direct.exists(`lock:{${k}}`)) === 0, 1_000).catch(() => undefined);
      const inRedis = await direct.get(`lock:{${k}}`);
      await direct.del(`lock:{${k}}`);
      expect(inRedis).toBeNull();
    } finally {
      await a.module.close();
    }
  });

  it('a hand-over to a head whose subscription then fails leaves the key free', async () => {
    const a = await lockModule({ redis: server.url, ttl: 30_000 });
    const store = a.module.get<LockStore>(LOCK_STORE);
    const onRelease = store.onRelease.bind(store);
    try {
      const k = key();
      const holder = await a.locks.acquire(k, { autoRenew: false });
      // The subscription is slow, then fails (a subscriber connection that times out).
      store.onRelease = () => new Promise((_, reject) => setTimeout(() => reject(new Error('subscribe timed out')), 300));
      const waiting = a.locks.acquire(k, { wait: 10_000 });
      waiting.catch(() => undefined);
      await sleep(100); // first attempt answered busy; now awaiting `listening` in the queue
      expect(await holder.release()).toBe(true);
      const outcome = await waiting.then((lock) => lock, (error: unknown) => error);
      expect((outcome as Error).message).toMatch(/subscribe timed out/);
      await waitFor(async () => (await direct.exists(`lock:{${k}}`)) === 0, 1_000).catch(() => undefined);
      const inRedis = await direct.get(`lock:{${k}}`);
      await direct.del(`lock:{${k}}`);
      expect(inRedis).toBeNull();
    } finally {
      store.onRelease = onRelease;
      await a.module.close();
    }
  });
});
