import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockArgumentError, LockNotAcquiredError, type LockService } from '../../lib';
import { STORES, lockModule, startLockPair } from '../support/stores';
import { sleep } from '../support/wait-for';

/** Counting locks (`limit`) through LockService, two apps on one store as two replicas. */
describe.each(STORES.filter((store) => store.name !== 'quorum'))('counting locks on the $name store', (store) => {
  let locks: LockService;
  let other: LockService;
  let close: () => Promise<void>;
  let n = 0;
  const key = () => `count:${++n}`;

  beforeAll(async () => {
    ({ locks, other, close } = await startLockPair(store, { wait: 20_000, ttl: 5_000 }));
  });
  afterAll(async () => close?.());

  it('8 callers over 2 apps with limit 3: never more than 3 inside, done in about three waves', async () => {
    const k = key();
    const hold = 300;
    let inside = 0;
    let most = 0;
    const fences: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? other : locks).withLock(
          k,
          async (lock) => {
            most = Math.max(most, ++inside);
            fences.push(lock.fence);
            await sleep(hold);
            inside--;
          },
          { limit: 3 },
        ),
      ),
    );
    const took = performance.now() - started;
    expect(most).toBe(3);
    expect(new Set(fences).size).toBe(8);
    // Three waves of `hold`; a generous bound above them, well below the eight of a mutex.
    expect(took).toBeGreaterThanOrEqual(3 * hold - 20);
    expect(took).toBeLessThan(7 * hold);
  });

  it("a waiter of another app gets its turn while this app's callers keep passing permits to each other", async () => {
    const k = key();
    let stop = false;
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) await locks.withLock(k, () => sleep(10), { limit: 2 });
    });
    await sleep(200);
    const asked = performance.now();
    const waited = await other.withLock(k, () => performance.now() - asked, { limit: 2 });
    stop = true;
    await Promise.all(loops);
    // Local hand-overs are capped: a release goes through the store now and then (generous bound).
    expect(waited).toBeLessThan(3_000);
  });

  it('a plain lock on the key is a limit of 1: it waits while a permit is held, and permits wait for it', async () => {
    const k = key();
    const permit = await locks.acquire(k, { limit: 5 });
    await expect(other.acquire(k, { wait: 100 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    const exclusive = other.acquire(k);
    await sleep(50);
    await permit.release();
    const mutex = await exclusive;
    expect(mutex.fence).toBeGreaterThan(permit.fence);
    expect(await locks.tryAcquire(k, { limit: 5 })).toBeNull();
    await mutex.release();
  });

  it('a call chain holding a permit re-enters the key without a second permit', async () => {
    const k = key();
    await locks.withLock(
      k,
      async (outer) => {
        const inner = await locks.acquire(k, { limit: 1 });
        expect(inner.reentered).toBe(true);
        expect(inner.fence).toBe(outer.fence);
        await inner.release();
        // An exclusive lock inside its own permit would wait for itself: refused.
        await expect(locks.acquire(k)).rejects.toBeInstanceOf(LockArgumentError);
      },
      { limit: 1 },
    );
  });

  it('a permit is renewed while held', async () => {
    const k = key();
    const lock = await locks.acquire(k, { limit: 1, ttl: 300 });
    await sleep(900);
    expect(lock.signal.aborted).toBe(false);
    expect(await other.tryAcquire(k, { limit: 1 })).toBeNull();
    await lock.release();
    const next = await other.tryAcquire(k, { limit: 1 });
    expect(next).not.toBeNull();
    await next!.release();
  });
});

describe('shutdown drains permits and readers as it drains a mutex', () => {
  it('a permit and a read lock held at shutdown are released when the store closes, not left to their ttl', async () => {
    const redis = STORES.find((store) => store.name === 'redis')!;
    const { run, locks, other, close } = await startLockPair(redis, { shutdownGrace: 200 });
    const closing = await lockModule({ ...run.options, shutdownGrace: 200 });
    try {
      const permit = await closing.locks.acquire('drain:export', { limit: 1, ttl: 20_000 });
      const reader = await closing.locks.acquire('drain:doc', { mode: 'read', ttl: 20_000 });
      await closing.module.close();
      expect(permit.held).toBe(false);
      expect(reader.held).toBe(false);
      const next = await locks.tryAcquire('drain:export', { limit: 1 });
      const writer = await other.tryAcquire('drain:doc');
      expect(next).not.toBeNull();
      expect(writer).not.toBeNull();
      await next!.release();
      await writer!.release();
    } finally {
      await close();
    }
  });
});

describe('counting and read locks on the quorum store', () => {
  it('are refused with LockArgumentError before anything is sent', async () => {
    const quorum = STORES.find((store) => store.name === 'quorum')!;
    const { locks, close } = await startLockPair(quorum, {});
    try {
      await expect(locks.acquire('q', { limit: 2 })).rejects.toBeInstanceOf(LockArgumentError);
      await expect(locks.acquire('q', { mode: 'read' })).rejects.toBeInstanceOf(LockArgumentError);
    } finally {
      await close();
    }
  });
});
