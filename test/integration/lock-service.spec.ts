import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lock, LockArgumentError, LockLostError, LockNotAcquiredError, type LockService } from '../../lib';
import { ExclusionProbe } from '../support/exclusion-probe';
import { STORES, startLockPair } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

describe.each(STORES)('LockService on the $name store', (store) => {
  let locks: LockService;
  let other: LockService; // another "process" on the same store
  let close: () => Promise<void>;
  let n = 0;
  const key = () => `${store.name}:k${++n}`;

  beforeAll(async () => {
    ({ locks, other, close } = await startLockPair(store, { ttl: 2_000, wait: 0 }));
  });
  afterAll(() => close?.());

  it('acquires, reports the lock as held, and releases it', async () => {
    const k = key();
    const lock = await locks.acquire(k);
    expect(lock.key).toBe(k);
    expect(lock.keys).toEqual([k]);
    expect(lock.held).toBe(true);
    expect(lock.expiresAt).toBeGreaterThan(Date.now());
    expect(await other.isLocked(k)).toBe(true);
    expect(await lock.release()).toBe(true);
    expect(lock.held).toBe(false);
    expect(await other.isLocked(k)).toBe(false);
  });

  it('gives every acquisition its own random 128-bit token', async () => {
    const k = key();
    const tokens = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const lock = await locks.acquire(k);
      tokens.add(lock.token);
      expect(Buffer.from(lock.token, 'base64url').length).toBeGreaterThanOrEqual(16);
      await lock.release();
    }
    expect(tokens.size).toBe(20);
  });

  it('issues fences that strictly increase per key', async () => {
    const k = key();
    const fences: number[] = [];
    for (let i = 0; i < 10; i++) {
      const lock = await (i % 2 ? other : locks).acquire(k);
      fences.push(lock.fence);
      await lock.release();
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
  });

  it('tryAcquire makes one attempt and returns null when busy', async () => {
    const k = key();
    const held = await locks.acquire(k);
    expect(await other.tryAcquire(k)).toBeNull();
    await held.release();
    const next = await other.tryAcquire(k);
    expect(next).not.toBeNull();
    await next!.release();
  });

  it('rejects with LockNotAcquiredError naming the key after waiting', async () => {
    const k = key();
    const held = await locks.acquire(k);
    const started = Date.now();
    const error = await other.acquire(k, { wait: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockNotAcquiredError);
    expect((error as LockNotAcquiredError).keys).toEqual([k]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await held.release();
  });

  it('a waiter acquires once the holder releases', async () => {
    const k = key();
    const held = await locks.acquire(k);
    const waiting = other.acquire(k, { wait: 5_000 });
    await sleep(100);
    await held.release();
    const lock = await waiting;
    expect(lock.held).toBe(true);
    expect(lock.fence).toBeGreaterThan(held.fence);
    await lock.release();
  });

  it('keeps mutual exclusion: a non-atomic read-modify-write under the lock counts exactly', async () => {
    const k = key();
    const probe = new ExclusionProbe();
    const worker = async (service: LockService) => {
      for (let i = 0; i < 10; i++) await service.withLock(k, () => probe.increment(), { wait: 20_000 });
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => worker(i % 2 ? other : locks)));
    expect(probe.overlaps).toBe(0);
    expect(probe.count).toBe(80);
  });

  it('renews a short lease in the background, keeping the lock past its ttl', async () => {
    const k = key();
    const lock = await locks.acquire(k, { ttl: 150 });
    for (let i = 0; i < 6; i++) {
      await sleep(100);
      expect(await other.tryAcquire(k)).toBeNull();
    }
    expect(lock.held).toBe(true);
    expect(lock.signal.aborted).toBe(false);
    expect(await lock.release()).toBe(true);
  });

  it('without autoRenew the lease expires and the holder is told through signal', async () => {
    const k = key();
    const lock = await locks.acquire(k, { ttl: 100, autoRenew: false });
    const aborted = new Promise((resolve) => lock.signal.addEventListener('abort', resolve));
    await aborted;
    expect(lock.signal.reason).toBeInstanceOf(LockLostError);
    expect((lock.signal.reason as LockLostError).reason).toBe('expired');
    expect(lock.held).toBe(false);
    await waitFor(async () => !(await other.isLocked(k)), 2_000);
    const next = await other.acquire(k);
    await next.release();
  });

  it("a stale holder cannot release or extend the next holder's lock", async () => {
    const k = key();
    const stale = await locks.acquire(k, { ttl: 100, autoRenew: false });
    const fresh = await other.acquire(k, { wait: 2_000 });
    expect(fresh.fence).toBeGreaterThan(stale.fence);
    expect(await stale.release()).toBe(false);
    await expect(stale.extend(5_000)).rejects.toBeInstanceOf(LockLostError);
    expect(await locks.isLocked(k)).toBe(true);
    expect(await locks.tryAcquire(k)).toBeNull();
    expect(await fresh.release()).toBe(true);
  });

  it('extend renews by hand and release is idempotent', async () => {
    const k = key();
    const lock = await locks.acquire(k, { ttl: 200, autoRenew: false });
    await sleep(120);
    await lock.extend(400);
    await sleep(200); // past the first lease, inside the extended one
    expect(lock.held).toBe(true);
    expect(await other.tryAcquire(k)).toBeNull();
    expect(await lock.release()).toBe(true);
    expect(await lock.release()).toBe(true);
    expect(await other.isLocked(k)).toBe(false);
    await expect(lock.extend()).rejects.toBeInstanceOf(LockLostError);
  });

  it('releases through Symbol.asyncDispose', async () => {
    const k = key();
    const lock = await locks.acquire(k);
    await lock[Symbol.asyncDispose]();
    expect(await other.isLocked(k)).toBe(false);
  });

  it('withLock returns the result and releases on return and on throw', async () => {
    const k = key();
    const result = await locks.withLock(k, async (lock: Lock) => {
      expect(await other.isLocked(k)).toBe(true);
      return lock.fence;
    });
    expect(typeof result).toBe('number');
    expect(await other.isLocked(k)).toBe(false);
    const boom = new Error('boom');
    await expect(
      locks.withLock(k, () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await other.isLocked(k)).toBe(false);
  });

  it("an aborted wait rejects with the signal's reason and leaves no lock behind", async () => {
    const k = key();
    const held = await locks.acquire(k);
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const waiting = other.acquire(k, { wait: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 100);
    await expect(waiting).rejects.toBe(reason);
    await held.release();
    await sleep(50);
    expect(await locks.isLocked(k)).toBe(false);
    // Already aborted: rejects before trying.
    await expect(other.acquire(k, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(await locks.isLocked(k)).toBe(false);
  });

  it("a waiter that gives up never touches the holder's key", async () => {
    const k = key();
    const held = await locks.acquire(k);
    await expect(other.acquire(k, { wait: 100 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    expect(held.held).toBe(true);
    expect(await other.isLocked(k)).toBe(true);
    expect(await held.release()).toBe(true);
  });

  it('takes several keys atomically: all or none', async () => {
    const [a, b, c] = [key(), key(), key()];
    const ab = await locks.acquire([a, b]);
    expect(ab.keys).toEqual([a, b]);
    expect(await other.tryAcquire([b, c])).toBeNull();
    expect(await other.isLocked(c)).toBe(false); // c was not taken by the failed attempt
    const onlyC = await other.acquire(c);
    await onlyC.release();
    expect(await ab.release()).toBe(true);
    expect(await other.isLocked([a, b])).toBe(false);
  });

  it('rejects bad input with LockArgumentError before anything is sent', async () => {
    const bad: [unknown, unknown][] = [
      ['', undefined],
      ['   ', undefined],
      [[], undefined],
      [undefined, undefined],
      [null, undefined],
      [42, undefined],
      ['order:undefined', undefined],
      ['x'.repeat(5_000), undefined],
      [key(), { ttl: 0 }],
      [key(), { ttl: 1.5 }],
      [key(), { ttl: -1 }],
      [key(), { ttl: '100' }],
      [key(), { wait: -1 }],
      [key(), { wait: Number.NaN }],
      [key(), { autoRenew: 'yes' }],
      [key(), { tll: 100 }],
      [key(), 'fast'],
    ];
    for (const [k, options] of bad) {
      await expect(
        locks.acquire(k as string, options as object),
        `acquire(${String(k).slice(0, 20)})`,
      ).rejects.toBeInstanceOf(LockArgumentError);
    }
    await expect(locks.withLock('', () => 1)).rejects.toBeInstanceOf(LockArgumentError);
    await expect(locks.tryAcquire('k', { ttl: 5 })).rejects.toBeInstanceOf(LockArgumentError);
    await expect(locks.isLocked(['a', ''])).rejects.toBeInstanceOf(LockArgumentError);
  });
});
