import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Lock } from '../../lib';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { LOCK_STORE } from '../../lib/nest/redis-lock.tokens';
import { HAND_OVER_SCRIPT } from '../../lib/stores/redis/lua-scripts';
import { FaultProxy, scriptCall } from '../support/fault-proxy';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/**
 * An optimistic hand-over starts its receiver on the evidence that the giver's lease still holds
 * in Redis. A connection that is not ready, or a giver whose renewal is overdue, is no such
 * evidence: the hand-over then waits for Redis' answer. And while it runs unconfirmed, the
 * receiver says it lives no longer than the giver's lease that covers it.
 */
describe('what an optimistic hand-over rests on', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let direct: Redis;
  let n = 0;
  const key = () => `cover-${++n}`;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await FaultProxy.start(server.port);
    direct = server.client({ maxRetriesPerRequest: null });
    direct.on('error', () => undefined); // one test restarts the server
  });

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  /** Resolves once a caller waiting for `k` listens for its releases. */
  async function listening(k: string): Promise<void> {
    await waitFor(async () => Number((await direct.pubsub('NUMSUB', `lock:{${k}}:released`))[1]) === 1, 2_000);
  }

  /** Whether `promise` settled: read it after the turn it settles in. */
  function tracked<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    return { promise, settled: () => done };
  }

  it("the giver's renewal unanswered past its due time: the hand-over waits for Redis' answer", async () => {
    const { module, locks } = await lockModule({ redis: server.url, ttl: 3_000 });
    const store = module.get<LockStore>(LOCK_STORE);
    const { extend, tryAcquire } = store;
    const handOver = vi.spyOn(store, 'handOver');
    let renewalSent: (() => void) | undefined;
    let answered: (() => void) | undefined;
    // The renewal reaches Redis; its answer never comes back (a reply lost in a dying connection).
    store.extend = (...args) => {
      void extend.apply(store, args).catch(() => undefined);
      renewalSent?.();
      return new Promise<boolean>(() => undefined);
    };
    // Told when the head's poll was answered: it is idle (sleeping its poll delay) just after.
    store.tryAcquire = (...args) => tryAcquire.apply(store, args).finally(() => answered?.());
    try {
      const k = key();
      const holder = await locks.acquire(k);
      const waiting = locks.acquire(k, { wait: 5_000 });
      await new Promise<void>((resolve) => (renewalSent = resolve)); // due at a third of the ttl
      await sleep(100); // overdue now; the giver's deadline is still far
      await new Promise<void>((resolve) => (answered = resolve));
      answered = undefined;
      await sleep(2);
      expect(await holder.release()).toBe(true);
      const receiver = await waiting;
      expect(handOver).toHaveBeenCalledTimes(1);
      expect(handOver.mock.calls[0]![0].optimistic).toBeUndefined(); // no expected fence: the confirmed kind
      expect(await direct.get(`lock:{${k}}`)).toBe(`${receiver.token} ${receiver.fence}`);
      await receiver.release();
    } finally {
      handOver.mockRestore();
      store.extend = extend;
      store.tryAcquire = tryAcquire;
      await module.close();
    }
  });

  it("an unconfirmed receiver's expiresAt is no later than the giver's lease it runs under", async () => {
    const { module, locks } = await lockModule({ redis: proxy.url, ttl: 30_000 });
    try {
      const k = key();
      const holder = await locks.acquire(k);
      const waiting = locks.acquire(k, { wait: 5_000 });
      await listening(k);
      await sleep(50); // the waiter sleeps between polls; a receiver's own lease would end later than the giver's
      const late = proxy.delayReplies(scriptCall(HAND_OVER_SCRIPT), Infinity, 1);
      const released = holder.release();
      const receiver = await waiting;
      await late.replied(); // Redis confirmed; the proxy holds the answer
      expect(receiver.expiresAt).toBeLessThanOrEqual(holder.expiresAt);
      late.release();
      expect(await released).toBe(true);
      // Confirmed: the receiver's lease counts from the hand-over, past the giver's.
      await waitFor(() => receiver.expiresAt > holder.expiresAt, 2_000);
      expect(await receiver.release()).toBe(true);
    } finally {
      proxy.reset();
      await module.close();
    }
  });

  // Last: it restarts the server the other tests use.
  it('Redis restarted empty while the giver reconnects: the receiver starts only once Redis granted it', async () => {
    const { module, locks } = await lockModule({ redis: server.url, ttl: 30_000, storeTimeout: 300 });
    const store = module.get<LockStore>(LOCK_STORE);
    const attempt = store.tryAcquire.bind(store);
    let failed: (() => void) | undefined;
    // Told when the head's attempt failed: it is idle (sleeping its poll delay) just after.
    store.tryAcquire = (...args) =>
      attempt(...args).catch((error: unknown) => {
        failed?.();
        throw error;
      });
    try {
      const k = key();
      const holder = await locks.acquire(k);
      const waiting = tracked(locks.acquire(k, { wait: 20_000 }));
      await listening(k);
      await server.kill(); // with all its data; the client reconnects
      await new Promise<void>((resolve) => (failed = resolve));
      await sleep(2);
      const released = holder.release();
      released.catch(() => undefined); // unanswered while Redis is down
      await sleep(200);
      // Started now, the receiver would run on a lease Redis no longer has, beside whoever takes it.
      expect(waiting.settled()).toBe(false);
      failed = undefined;
      await server.restart();
      const receiver: Lock = await waiting.promise;
      expect(await direct.get(`lock:{${k}}`)).toBe(`${receiver.token} ${receiver.fence}`);
      expect(await receiver.release()).toBe(true);
    } finally {
      store.tryAcquire = attempt;
      await module.close();
    }
  });
});
