import { describe, expect, it } from 'vitest';
import { type Lock, LockNotAcquiredError, type LockService } from '../../lib';
import { type FaultProxy, commandNamed } from '../support/fault-proxy';
import { proxiedServerPerSuite } from '../support/proxied-server';
import type { RedisServer } from '../support/redis-server';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { LOCK_STORE } from '../../lib/nest/redis-lock.tokens';
import { lockModule } from '../support/stores';

/**
 * A waiter's subscription to release notifications may take long to be answered (a slow or
 * reconnecting subscriber connection), up to storeTimeout. Meanwhile the waiter is queued: its
 * `wait`, its AbortSignal and the fallback poll must still hold, or it overstays its bound and
 * misses a lock that is free.
 */
describe('a waiter whose subscription is slow to be answered', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  proxiedServerPerSuite((started) => ({ server, proxy } = started));
  let n = 0;
  const key = () => `slow-subscribe-${++n}`;
  const STORE_TIMEOUT = 4_000;
  const SUBSCRIBE_DELAY = 3_000;

  async function sides() {
    const waiterSide = await lockModule({ redis: proxy.url, ttl: 30_000, storeTimeout: STORE_TIMEOUT });
    const holderSide = await lockModule({ redis: server.url, ttl: 30_000 });
    return {
      waiter: waiterSide.locks,
      waiterStore: waiterSide.module.get<LockStore>(LOCK_STORE),
      holder: holderSide.locks,
      close: async () => {
        await waiterSide.module.close();
        await holderSide.module.close();
      },
    };
  }

  /** Runs `test` on both sides, the waiter's next subscription answered late, a fresh key held by the holder. */
  async function whileSubscribeIsSlow(test: (waiter: LockService, k: string, held: Lock) => Promise<void>) {
    const { waiter, holder, close } = await sides();
    const rule = proxy.delayReplies(commandNamed('subscribe'), SUBSCRIBE_DELAY, 1);
    try {
      const k = key();
      await test(waiter, k, await holder.acquire(k));
    } finally {
      rule.remove();
      rule.release();
      await close();
    }
  }

  it('gets a lock released meanwhile by polling, within its wait', () =>
    whileSubscribeIsSlow(async (waiter, k, held) => {
      const started = performance.now();
      const waiting = waiter.acquire(k, { wait: 1_500 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await held.release();
      const lock = await waiting;
      const took = performance.now() - started;
      await lock.release();
      expect(took).toBeLessThan(1_500);
    }));

  it('ends at its wait, not at the subscription answer', () =>
    whileSubscribeIsSlow(async (waiter, k, held) => {
      const started = performance.now();
      const error = await waiter.acquire(k, { wait: 500 }).catch((caught: unknown) => caught);
      const took = performance.now() - started;
      await held.release();
      expect(error).toBeInstanceOf(LockNotAcquiredError);
      expect(took).toBeLessThan(SUBSCRIBE_DELAY - 1_000);
    }));

  it('rejects with its abort reason when aborted meanwhile', () =>
    whileSubscribeIsSlow(async (waiter, k, held) => {
      const controller = new AbortController();
      const started = performance.now();
      const waiting = waiter.acquire(k, { wait: 10_000, signal: controller.signal }).catch((caught: unknown) => caught);
      setTimeout(() => controller.abort(new Error('client gone')), 100);
      const error = await waiting;
      const took = performance.now() - started;
      await held.release();
      expect((error as Error).message).toBe('client gone');
      expect(took).toBeLessThan(SUBSCRIBE_DELAY - 1_000);
    }));

  it('rejects with the error of a subscription that fails, and leaves its queue', async () => {
    const { waiter: locks, waiterStore: store, holder, close } = await sides();
    const onRelease = store.onRelease.bind(store);
    try {
      const k = key();
      const held = await holder.acquire(k);
      store.onRelease = () => new Promise((_, reject) => setTimeout(() => reject(new Error('subscribe failed')), 300));
      const error = await locks.acquire(k, { wait: 10_000 }).catch((caught: unknown) => caught);
      expect((error as Error).message).toBe('subscribe failed');
      store.onRelease = onRelease;
      await held.release();
      // Nobody is left queued: the next caller takes the free lock at once.
      const next = await locks.acquire(k, { wait: 1_000 });
      await next.release();
    } finally {
      store.onRelease = onRelease;
      await close();
    }
  });
});
