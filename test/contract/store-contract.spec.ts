import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockStoreError } from '../../lib';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { toStoreKey } from '../../lib/core/keys/store-keys';
import { IOVALKEY_STORE, STORES, type StoreRun } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/** Bound on one store call (the Redis store's storeTimeout). */
const TIMEOUT = 2_000;
/** A lease long enough that it cannot run out during a test. */
const LONG = 30_000;

/**
 * The LockStore contract (lib/interfaces/lock-store.interface.ts), checked on every store by its
 * own methods, without a LockService: what each operation answers and what it leaves held.
 * Ownership is read back through the contract too: a token holds a key while extend() succeeds.
 */
describe.each([...STORES, IOVALKEY_STORE])('the LockStore contract on the $name store', (descriptor) => {
  let run: StoreRun;
  let store: LockStore;
  let n = 0;
  const key = () => toStoreKey('contract:', `k${++n}`);
  let t = 0;
  const token = () => `token-${++t}`;

  beforeAll(async () => {
    run = await descriptor.start();
    store = run.createStore(TIMEOUT);
  });

  afterAll(async () => {
    await store?.close();
    await run?.stop();
  });

  /** Whether `owner` holds every one of `keys` (extend succeeds only then; it resets the lease). */
  const holds = (keys: readonly string[], owner: string, ttl = LONG) => store.extend(keys, owner, ttl);

  /** Counts the release notifications for `keys`, from once listening is active. */
  async function listen(keys: readonly string[]) {
    const heard = { count: 0 };
    const stop = await store.onRelease(keys, () => heard.count++);
    return {
      heard,
      stop,
      /** Resolves once `count` notifications arrived (bounded). */
      until: (count: number) => waitFor(() => heard.count >= count, 2_000),
    };
  }

  /** Fence of a fresh lease on `keys`, released at once. */
  async function fenceOf(keys: readonly string[]): Promise<number> {
    const owner = token();
    const { fence } = await store.tryAcquire(keys, owner, LONG);
    expect(fence).not.toBeNull();
    expect(await store.release(keys, owner)).toBe(true);
    return fence!;
  }

  describe('tryAcquire', () => {
    it('takes free keys with a fence above 0', async () => {
      const keys = [key(), key()];
      const owner = token();
      const attempt = await store.tryAcquire(keys, owner, LONG);
      expect(attempt.fence).toBeGreaterThan(0);
      expect(Number.isSafeInteger(attempt.fence)).toBe(true);
      expect(await holds(keys, owner)).toBe(true);
      expect(await store.release(keys, owner)).toBe(true);
    });

    it("busy: no fence, and remaining is about the holder's lease left", async () => {
      const k = key();
      const holder = token();
      await store.tryAcquire([k], holder, 5_000);
      const attempt = await store.tryAcquire([k], token(), LONG);
      expect(attempt.fence).toBeNull();
      expect(attempt).toHaveProperty('remaining');
      const { remaining } = attempt as { remaining: number };
      expect(remaining).toBeGreaterThan(4_000);
      expect(remaining).toBeLessThanOrEqual(5_000);
      expect(await holds([k], holder)).toBe(true); // the failed attempt left the holder alone
      await store.release([k], holder);
    });

    it('takes several keys all or nothing: one busy key leaves the others free', async () => {
      const [a, b, c] = [key(), key(), key()];
      const holder = token();
      await store.tryAcquire([b], holder, 3_000);
      const caller = token();
      const attempt = await store.tryAcquire([a, b, c], caller, LONG);
      expect(attempt.fence).toBeNull();
      const { remaining } = attempt as { remaining: number };
      expect(remaining).toBeGreaterThan(2_000); // b's lease, the one in the way
      expect(remaining).toBeLessThanOrEqual(3_000);
      expect(await store.isLocked([a])).toBe(false);
      expect(await store.isLocked([c])).toBe(false);
      await store.release([b], holder);
      expect((await store.tryAcquire([a, b, c], caller, LONG)).fence).toBeGreaterThan(0);
      expect(await store.release([a, b, c], caller)).toBe(true);
    });

    it('issues fences that strictly increase per key', async () => {
      const k = key();
      const fences: number[] = [];
      for (let i = 0; i < 5; i++) fences.push(await fenceOf([k]));
      for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
    });

    it('fences also increase across multi-key locks that share a key', async () => {
      const [a, b] = [key(), key()];
      const onA = await fenceOf([a]);
      const onBoth = await fenceOf([a, b]); // b's counter is new
      expect(onBoth).toBeGreaterThan(onA);
      expect(await fenceOf([b])).toBeGreaterThan(onBoth);
      expect(await fenceOf([a])).toBeGreaterThan(onBoth);
      const later = await fenceOf([b, a]);
      expect(await fenceOf([a])).toBeGreaterThan(later);
    });

    it('a re-run by the token that already holds every key answers the same fence, and issues none', async () => {
      for (const keys of [[key()], [key(), key()]]) {
        const owner = token();
        const first = await store.tryAcquire(keys, owner, LONG);
        expect(await store.tryAcquire(keys, owner, LONG)).toEqual(first);
        expect(await holds(keys, owner)).toBe(true);
        expect(await store.release(keys, owner)).toBe(true);
        expect(await fenceOf(keys)).toBeGreaterThan(first.fence!);
      }
    });
  });

  describe('extend', () => {
    it("the owner's extend resets the lease to the new length", async () => {
      const k = key();
      const owner = token();
      await store.tryAcquire([k], owner, 200);
      await sleep(100);
      expect(await store.extend([k], owner, 2_000)).toBe(true);
      await sleep(200); // past the first lease
      const attempt = await store.tryAcquire([k], token(), LONG);
      expect(attempt.fence).toBeNull();
      expect((attempt as { remaining: number }).remaining).toBeGreaterThan(1_000);
      await store.release([k], owner);
    });

    it("another token's extend answers false and leaves the lease as it was", async () => {
      const k = key();
      const owner = token();
      await store.tryAcquire([k], owner, 5_000);
      expect(await store.extend([k], token(), LONG)).toBe(false);
      const { remaining } = (await store.tryAcquire([k], token(), LONG)) as { remaining: number };
      expect(remaining).toBeLessThanOrEqual(5_000);
      await store.release([k], owner);
    });

    it('answers false when the token owns only some of the keys, and extends none of them', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      await store.tryAcquire([a, b], owner, 300);
      expect(await store.release([b], owner)).toBe(true);
      expect(await store.extend([a, b], owner, 10_000)).toBe(false);
      await sleep(400);
      expect(await store.isLocked([a])).toBe(false); // a ran out with its first lease
    });

    it('answers false once the lease has run out or was released', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      await store.tryAcquire([a], owner, 50);
      await store.tryAcquire([b], owner, LONG);
      await store.release([b], owner);
      await sleep(100);
      expect(await store.extend([a], owner, LONG)).toBe(false);
      expect(await store.extend([b], owner, LONG)).toBe(false);
    });
  });

  describe('release', () => {
    it('the owner deletes every key, answers true, and listeners hear of it', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      await store.tryAcquire([a, b], owner, LONG);
      const listener = await listen([a]);
      expect(await store.release([a, b], owner)).toBe(true);
      expect(await store.isLocked([a])).toBe(false);
      expect(await store.isLocked([b])).toBe(false);
      await listener.until(1);
      listener.stop();
    });

    it("another token's release answers false, deletes nothing and notifies nobody", async () => {
      const k = key();
      const owner = token();
      await store.tryAcquire([k], owner, LONG);
      const listener = await listen([k]);
      expect(await store.release([k], token())).toBe(false);
      expect(await holds([k], owner)).toBe(true);
      // The owner's release is the first notification heard: the failed one sent none.
      expect(await store.release([k], owner)).toBe(true);
      await listener.until(1);
      await sleep(50);
      expect(listener.heard.count).toBe(1);
      listener.stop();
    });

    it('a token that owns only some of the keys: it deletes those, answers false, leaves the others', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      const other = token();
      await store.tryAcquire([a], owner, LONG);
      await store.tryAcquire([b], other, LONG);
      const listener = await listen([a]);
      expect(await store.release([a, b], owner)).toBe(false);
      expect(await store.isLocked([a])).toBe(false);
      expect(await holds([b], other)).toBe(true);
      await listener.until(1);
      listener.stop();
      await store.release([b], other);
    });

    it('a listener that stopped hears nothing more', async () => {
      const k = key();
      const listener = await listen([k]);
      const still = await listen([k]); // another listener on the same key keeps listening
      listener.stop();
      const owner = token();
      await store.tryAcquire([k], owner, LONG);
      await store.release([k], owner);
      await still.until(1);
      await sleep(50);
      expect(listener.heard.count).toBe(0);
      still.stop();
    });
  });

  describe('handOver', () => {
    it('from the owner: the receiver holds every key with a higher fence; no notification', async () => {
      const [a, b] = [key(), key()];
      const from = token();
      const to = token();
      const { fence } = await store.tryAcquire([a, b], from, LONG);
      const listener = await listen([a]);
      const result = await store.handOver([a, b], from, to, LONG);
      expect(result.owned).toBe(true);
      expect(result.fence).toBeGreaterThan(fence!);
      expect(await holds([a, b], to)).toBe(true);
      expect(await holds([a], from)).toBe(false);
      // The receiver's release is the first notification heard: the hand-over sent none.
      expect(await store.release([a, b], to)).toBe(true);
      await listener.until(1);
      await sleep(50);
      expect(listener.heard.count).toBe(1);
      listener.stop();
    });

    it("from a token whose lease ended, the key free: not owned, but the receiver gets it with a fence", async () => {
      const k = key();
      const from = token();
      const to = token();
      const { fence } = await store.tryAcquire([k], from, 50);
      await sleep(100);
      const result = await store.handOver([k], from, to, LONG);
      expect(result.owned).toBe(false);
      expect(result.fence).toBeGreaterThan(fence!);
      expect(await holds([k], to)).toBe(true);
      expect(await store.release([k], to)).toBe(true);
    });

    it("when another owner holds a key: no fence, the giver's own keys are released, the other's kept", async () => {
      const [a, b] = [key(), key()];
      const from = token();
      const other = token();
      const to = token();
      await store.tryAcquire([a], from, LONG);
      await store.tryAcquire([b], other, LONG);
      const listener = await listen([a]);
      expect(await store.handOver([a, b], from, to, LONG)).toEqual({ owned: false, fence: null });
      expect(await store.isLocked([a])).toBe(false);
      await listener.until(1); // released as a release would: waiters hear of it
      expect(await holds([b], other)).toBe(true);
      expect(await holds([b], to)).toBe(false);
      listener.stop();
      await store.release([b], other);
    });

    it('a re-run (every key already the receiver\'s) answers owned with the fence it issued', async () => {
      for (const keys of [[key()], [key(), key()]]) {
        const from = token();
        const to = token();
        await store.tryAcquire(keys, from, LONG);
        const first = await store.handOver(keys, from, to, LONG);
        expect(first.owned).toBe(true);
        expect(await store.handOver(keys, from, to, LONG)).toEqual({ owned: true, fence: first.fence });
        expect(await holds(keys, to)).toBe(true);
        expect(await store.release(keys, to)).toBe(true);
        expect(await fenceOf(keys)).toBeGreaterThan(first.fence!);
      }
    });

    /**
     * An optimistic receiver runs with the giver's fence plus one before the store answers. When
     * the giver's lease vanished meanwhile and another token took the keys, the hand-over is
     * refused, and the fence that receiver ran with must still be below the other holder's, and
     * below any later one: a fenced resource keeps the newer holder's writes.
     */
    it('optimistic, the giver\'s lease gone and the keys taken by another: the receiver\'s fence stays below theirs', async () => {
      if (descriptor.name === 'quorum') return; // a quorum confirms every hand-over first
      for (const keys of [[key()], [key(), key()]]) {
        const [from, other, to] = [token(), token(), token()];
        const { fence } = await store.tryAcquire(keys, from, 50);
        await sleep(100); // the giver's lease ends (an eviction or a DEL does the same to Redis)
        const taken = await store.tryAcquire(keys, other, LONG);
        const result = await store.handOver(keys, from, to, LONG, fence!);
        expect(result.fence).toBeNull();
        expect(taken.fence).toBeGreaterThan(fence! + 1);
        expect(await holds(keys, other)).toBe(true);
        expect(await store.release(keys, other)).toBe(true);
        expect(await fenceOf(keys)).toBeGreaterThan(fence! + 1);
      }
    });
  });

  describe('isLocked and expiry', () => {
    it('isLocked is true while any of the keys is held', async () => {
      const [a, b] = [key(), key()];
      expect(await store.isLocked([a, b])).toBe(false);
      const owner = token();
      await store.tryAcquire([b], owner, LONG);
      expect(await store.isLocked([a, b])).toBe(true);
      expect(await store.isLocked([a])).toBe(false);
      await store.release([b], owner);
      expect(await store.isLocked([a, b])).toBe(false);
    });

    it('a lease ends after its ttl: the keys are free for another token', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      await store.tryAcquire([a, b], owner, 100);
      expect(await store.isLocked([a])).toBe(true);
      await sleep(150);
      expect(await store.isLocked([a, b])).toBe(false);
      const next = token();
      expect((await store.tryAcquire([a, b], next, LONG)).fence).toBeGreaterThan(0);
      await store.release([a, b], next);
    });
  });

  it('after close(), every call rejects with LockStoreError', async () => {
    const closing = run.createStore(TIMEOUT);
    const k = key();
    await closing.isLocked([k]); // connected (Redis)
    await closing.close();
    const calls: [string, () => Promise<unknown>][] = [
      ['tryAcquire', () => closing.tryAcquire([k], token(), LONG)],
      ['extend', () => closing.extend([k], token(), LONG)],
      ['release', () => closing.release([k], token())],
      ['handOver', () => closing.handOver([k], token(), token(), LONG)],
      ['isLocked', () => closing.isLocked([k])],
      ['onRelease', () => closing.onRelease([k], () => undefined)],
    ];
    for (const [name, call] of calls) {
      // Promise.resolve().then: a call that throws at once counts as failing too.
      const outcome = await Promise.resolve().then(call).then(
        (value) => value,
        (error: unknown) => error,
      );
      expect(outcome, name).toBeInstanceOf(LockStoreError);
    }
    await expect(closing.close()).resolves.toBeUndefined(); // closing again is harmless
  });
});
