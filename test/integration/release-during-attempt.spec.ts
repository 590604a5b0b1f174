import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockService } from '../../lib';
import type { AcquireAttempt, LockStore } from '../../lib/stores/lock-store.interface';
import { LOCK_STORE } from '../../lib/nest/redis-lock.tokens';
import { ACQUIRE_SCRIPT } from '../../lib/stores/redis/lua-scripts';
import { RETRY_MIN_DELAY } from '../../lib/core/tuning';
import { FaultProxy, scriptCall } from '../support/fault-proxy';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/**
 * The release notification and the head waiter's attempt travel on different connections, and
 * nothing orders them: a release heard while the attempt is in flight (answered busy, computed
 * before the release) must lead to a new attempt at once, not after the fallback poll, which is
 * never shorter than RETRY_MIN_DELAY. Two modules on one real Redis stand for two processes.
 */
describe('a release heard while the head waiter attempts', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let direct: Redis;
  let n = 0;
  const key = () => `mid-attempt-${++n}`;
  /** Well under the poll's shortest delay: an attempt at once takes one local round trip. */
  const PROMPT = RETRY_MIN_DELAY - 5;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await FaultProxy.start(server.port);
    direct = server.client();
  });

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  /** Resolves once `locks`' caller waiting for `k` listens for its releases. */
  async function listening(k: string): Promise<void> {
    await waitFor(async () => Number((await direct.pubsub('NUMSUB', `lock:{${k}}:released`))[1]) === 1, 2_000);
  }

  it('holder in another process, the busy answer delivered after the release notification', async () => {
    const waiterSide = await lockModule({ redis: server.url, ttl: 30_000 });
    const holderSide = await lockModule({ redis: server.url, ttl: 30_000 });
    const store = waiterSide.module.get<LockStore>(LOCK_STORE);
    const attempt = store.tryAcquire.bind(store);
    try {
      const k = key();
      const holder = await holderSide.locks.acquire(k);
      let answeredAt = 0;
      let intercept = false;
      // The head's attempt reaches Redis before the release; its answer, here, after the notification.
      store.tryAcquire = async (...args) => {
        const answer: AcquireAttempt = await attempt(...args);
        if (!intercept) return answer;
        intercept = false;
        expect(answer.fence).toBeNull();
        await holder.release();
        await sleep(30); // the notification has long arrived
        answeredAt = performance.now();
        return answer;
      };
      const waiting = waiterSide.locks.acquire(k, { wait: 10_000 });
      await listening(k);
      intercept = true;
      const lock = await waiting;
      const after = performance.now() - answeredAt;
      await lock.release();
      expect(answeredAt).toBeGreaterThan(0);
      expect(after).toBeLessThan(PROMPT);
    } finally {
      store.tryAcquire = attempt;
      await waiterSide.module.close();
      await holderSide.module.close();
    }
  });

  it.each([
    ['another process', 'other'],
    ['the same process', 'same'],
  ] as const)("holder in %s, the attempt's reply held back by a delaying proxy", async (_name, where) => {
    const waiterSide = await lockModule({ redis: proxy.url, ttl: 30_000 });
    const other = where === 'other' ? await lockModule({ redis: server.url, ttl: 30_000 }) : undefined;
    const holderLocks: LockService = other?.locks ?? waiterSide.locks;
    try {
      const k = key();
      const holder = await holderLocks.acquire(k);
      const waiting = waiterSide.locks.acquire(k, { wait: 10_000 });
      await listening(k);
      // The head's next poll: Redis answers busy, the proxy holds the answer.
      const late = proxy.delayReplies(scriptCall(ACQUIRE_SCRIPT), Infinity, 1);
      await late.replied();
      // The head is busy: a release in its own process goes through Redis too (its reply, on the
      // same connection, waits behind the held one; Redis runs it and announces it meanwhile).
      const released = holder.release();
      await waitFor(async () => (await direct.exists(`lock:{${k}}`)) === 0, 2_000);
      await sleep(30); // the notification has arrived; the busy answer has not
      const releasedAt = performance.now();
      late.release();
      const lock = await waiting;
      const after = performance.now() - releasedAt;
      expect(await released).toBe(true);
      await lock.release();
      expect(after).toBeLessThan(PROMPT);
    } finally {
      proxy.reset();
      await waiterSide.module.close();
      await other?.module.close();
    }
  });
});
