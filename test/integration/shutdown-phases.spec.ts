import { describe, expect, it } from 'vitest';
import { type Lock, LockService, LockStoreError } from '../../lib';
import { ACQUIRE_SCRIPT } from '../../lib/stores/redis/lua-scripts';
import { type FaultProxy, scriptCall } from '../support/fault-proxy';
import { proxiedServerPerSuite } from '../support/proxied-server';
import type { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep, timersAndSockets, waitFor } from '../support/wait-for';

/** Settles with the lock or the error. */
const outcomeOf = (acquiring: Promise<Lock>) =>
  acquiring.then(
    (lock: Lock) => lock,
    (error: Error) => error,
  );

/**
 * The end of the drain: when the grace period is over (or at once with shutdownGrace 0) waiters
 * fail, holders lose their locks and no lock is handed out any more, though the store stays open
 * until the module's last shutdown step.
 */
describe('shutdown phases', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  proxiedServerPerSuite((started) => ({ server, proxy } = started));

  it("shutdownGrace 0: the aborted holder's lock goes to no waiter; waiters fail with LockStoreError", async () => {
    const { module, locks } = await lockModule({ redis: server.url, shutdownGrace: 0, ttl: 30_000 });
    try {
      const holder = await locks.acquire('grace-zero');
      const waiter = outcomeOf(locks.acquire('grace-zero', { wait: 5_000 }));
      await sleep(100); // queued behind the holder
      await module.get(LockService).beforeApplicationShutdown();
      expect(holder.signal.aborted).toBe(true);
      expect(await waiter).toBeInstanceOf(LockStoreError);
      expect(await server.client().exists('lock:{grace-zero}')).toBe(0);
    } finally {
      await module.close();
    }
  });

  it('when the grace period ends, waiters fail and new acquisitions are refused, with the store still open', async () => {
    const other = await lockModule({ redis: server.url });
    const { module, locks } = await lockModule({ redis: server.url, shutdownGrace: 200 });
    try {
      const blocker = await other.locks.acquire('after-grace');
      const waiter = outcomeOf(locks.acquire('after-grace', { wait: 10_000 }));
      await module.get(LockService).beforeApplicationShutdown();
      const duringGrace = await locks.acquire('during-grace'); // acquisitions work while draining
      await sleep(400);
      expect(duringGrace.signal.aborted).toBe(true);
      expect(await waiter).toBeInstanceOf(LockStoreError);
      await expect(locks.acquire('too-late')).rejects.toBeInstanceOf(LockStoreError);
      expect(await server.client().exists('lock:{too-late}', 'lock:{during-grace}')).toBe(0);
      await blocker.release();
    } finally {
      await module.close();
      await other.module.close();
    }
  });

  it('a waiter whose attempt is in flight when the drain ends fails before close() resolves, leaving no timer', async () => {
    const other = await lockModule({ redis: server.url, ttl: 30_000, shutdownGrace: 0 });
    const blocker = await other.locks.acquire('contended');
    const before = timersAndSockets();
    const { module, locks } = await lockModule({ redis: proxy.url, shutdownGrace: 0, ttl: 30_000 });
    try {
      let failedAt = 0;
      const waiter = locks.acquire('contended', { wait: 20_000 }).catch((error: Error) => {
        failedAt = Date.now();
        return error;
      });
      await sleep(300); // the waiter is the head, polling
      const slow = proxy.delayReplies(scriptCall(ACQUIRE_SCRIPT), 150, 1);
      await slow.requested(1, 5_000); // its next attempt is in flight
      await module.close();
      const closedAt = Date.now();
      expect(await waiter).toBeInstanceOf(LockStoreError);
      expect(failedAt).toBeGreaterThan(0);
      expect(failedAt).toBeLessThanOrEqual(closedAt);
      // (The in-process proxy's own sockets close a moment after the module's.)
      await waitFor(() => timersAndSockets() <= before, 2_000);
    } finally {
      await module.close();
      await blocker.release();
      await other.module.close();
      proxy.reset();
    }
  });
});
