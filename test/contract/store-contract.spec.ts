import { describe, expect, it } from 'vitest';
import { LockStoreError } from '../../lib';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { storePerSuite } from '../support/store-per-suite';
import { IOVALKEY_STORE, STORES, type StoreRun } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/** Bound on one store call (the Redis store's storeTimeout). */
const TIMEOUT = 2_000;
/** A lease long enough that it cannot run out during a test. */
const LONG = 30_000;

/**
 * The LockStore contract (lib/stores/lock-store.interface.ts), checked on every store by its
 * own methods, without a LockService: what each operation answers and what it leaves held.
 * Ownership is read back through the contract too: a token holds a key while extend() succeeds.
 * What only some stores do runs where the store's `capabilities` declare it, never by store name.
 */
describe.each([...STORES, IOVALKEY_STORE])('the LockStore contract on the $name store', (descriptor) => {
  let run: StoreRun;
  let store: LockStore;
  const { key, token } = storePerSuite(descriptor, {
    prefix: 'contract:',
    timeout: TIMEOUT,
    onStart: (started) => ({ run, store } = started),
  });

  /** Whether `owner` holds every one of `keys` (extend succeeds only then; it resets the lease). */
  const holds = (keys: readonly string[], owner: string, ttl = LONG) =>
    store.extend({ kind: 'mutex', keys, token: owner, ttl });

  /** How many times a listener hears one release (a quorum's first node, then its majority). */
  const heardPerRelease = () => store.capabilities.announcementsPerRelease;

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
    const { fence } = await store.tryAcquire({ kind: 'mutex', keys, token: owner, ttl: LONG });
    expect(fence).not.toBeNull();
    expect(await store.release({ kind: 'mutex', keys, token: owner })).toBe(true);
    return fence!;
  }

  describe('tryAcquire', () => {
    it('takes free keys with a fence above 0', async () => {
      const keys = [key(), key()];
      const owner = token();
      const attempt = await store.tryAcquire({ kind: 'mutex', keys, token: owner, ttl: LONG });
      expect(attempt.fence).toBeGreaterThan(0);
      expect(Number.isSafeInteger(attempt.fence)).toBe(true);
      expect(await holds(keys, owner)).toBe(true);
      expect(await store.release({ kind: 'mutex', keys, token: owner })).toBe(true);
    });

    it("busy: no fence, and remaining is about the holder's lease left", async () => {
      const k = key();
      const holder = token();
      await store.tryAcquire({ kind: 'mutex', keys: [k], token: holder, ttl: 5_000 });
      const attempt = await store.tryAcquire({ kind: 'mutex', keys: [k], token: token(), ttl: LONG });
      expect(attempt.fence).toBeNull();
      expect(attempt).toHaveProperty('remaining');
      const { remaining } = attempt as { remaining: number };
      expect(remaining).toBeGreaterThan(4_000);
      expect(remaining).toBeLessThanOrEqual(5_000);
      expect(await holds([k], holder)).toBe(true); // the failed attempt left the holder alone
      await store.release({ kind: 'mutex', keys: [k], token: holder });
    });

    it('takes several keys all or nothing: one busy key leaves the others free', async () => {
      const [a, b, c] = [key(), key(), key()];
      const holder = token();
      await store.tryAcquire({ kind: 'mutex', keys: [b], token: holder, ttl: 3_000 });
      const caller = token();
      const attempt = await store.tryAcquire({ kind: 'mutex', keys: [a, b, c], token: caller, ttl: LONG });
      expect(attempt.fence).toBeNull();
      const { remaining } = attempt as { remaining: number };
      expect(remaining).toBeGreaterThan(2_000); // b's lease, the one in the way
      expect(remaining).toBeLessThanOrEqual(3_000);
      expect(await store.isLocked([a])).toBe(false);
      expect(await store.isLocked([c])).toBe(false);
      await store.release({ kind: 'mutex', keys: [b], token: holder });
      expect(
        (await store.tryAcquire({ kind: 'mutex', keys: [a, b, c], token: caller, ttl: LONG })).fence,
      ).toBeGreaterThan(0);
      expect(await store.release({ kind: 'mutex', keys: [a, b, c], token: caller })).toBe(true);
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
        const first = await store.tryAcquire({ kind: 'mutex', keys, token: owner, ttl: LONG });
        expect(await store.tryAcquire({ kind: 'mutex', keys, token: owner, ttl: LONG })).toEqual(first);
        expect(await holds(keys, owner)).toBe(true);
        expect(await store.release({ kind: 'mutex', keys, token: owner })).toBe(true);
        expect(await fenceOf(keys)).toBeGreaterThan(first.fence!);
      }
    });
  });

  describe('extend', () => {
    it("the owner's extend resets the lease to the new length", async () => {
      const k = key();
      const owner = token();
      await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: 200 });
      await sleep(100);
      expect(await store.extend({ kind: 'mutex', keys: [k], token: owner, ttl: 2_000 })).toBe(true);
      await sleep(200); // past the first lease
      const attempt = await store.tryAcquire({ kind: 'mutex', keys: [k], token: token(), ttl: LONG });
      expect(attempt.fence).toBeNull();
      expect((attempt as { remaining: number }).remaining).toBeGreaterThan(1_000);
      await store.release({ kind: 'mutex', keys: [k], token: owner });
    });

    it("another token's extend answers false and leaves the lease as it was", async () => {
      const k = key();
      const owner = token();
      await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: 5_000 });
      expect(await store.extend({ kind: 'mutex', keys: [k], token: token(), ttl: LONG })).toBe(false);
      const { remaining } = (await store.tryAcquire({ kind: 'mutex', keys: [k], token: token(), ttl: LONG })) as {
        remaining: number;
      };
      expect(remaining).toBeLessThanOrEqual(5_000);
      await store.release({ kind: 'mutex', keys: [k], token: owner });
    });

    it('answers false when the token owns only some of the keys, and extends none of them', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      await store.tryAcquire({ kind: 'mutex', keys: [a, b], token: owner, ttl: 300 });
      expect(await store.release({ kind: 'mutex', keys: [b], token: owner })).toBe(true);
      expect(await store.extend({ kind: 'mutex', keys: [a, b], token: owner, ttl: 10_000 })).toBe(false);
      await sleep(400);
      expect(await store.isLocked([a])).toBe(false); // a ran out with its first lease
    });

    it('answers false once the lease has run out or was released', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      await store.tryAcquire({ kind: 'mutex', keys: [a], token: owner, ttl: 50 });
      await store.tryAcquire({ kind: 'mutex', keys: [b], token: owner, ttl: LONG });
      await store.release({ kind: 'mutex', keys: [b], token: owner });
      await sleep(100);
      expect(await store.extend({ kind: 'mutex', keys: [a], token: owner, ttl: LONG })).toBe(false);
      expect(await store.extend({ kind: 'mutex', keys: [b], token: owner, ttl: LONG })).toBe(false);
    });
  });

  describe('release', () => {
    it('the owner deletes every key, answers true, and listeners hear of it', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      await store.tryAcquire({ kind: 'mutex', keys: [a, b], token: owner, ttl: LONG });
      const listener = await listen([a]);
      expect(await store.release({ kind: 'mutex', keys: [a, b], token: owner })).toBe(true);
      expect(await store.isLocked([a])).toBe(false);
      expect(await store.isLocked([b])).toBe(false);
      await listener.until(1);
      listener.stop();
    });

    it("another token's release answers false, deletes nothing and notifies nobody", async () => {
      const k = key();
      const owner = token();
      await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG });
      const listener = await listen([k]);
      expect(await store.release({ kind: 'mutex', keys: [k], token: token() })).toBe(false);
      expect(await holds([k], owner)).toBe(true);
      // The owner's release is the first notification heard: the failed one sent none.
      expect(await store.release({ kind: 'mutex', keys: [k], token: owner })).toBe(true);
      await listener.until(heardPerRelease());
      await sleep(50);
      expect(listener.heard.count).toBe(heardPerRelease());
      listener.stop();
    });

    it('a token that owns only some of the keys: it deletes those, answers false, leaves the others', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      const other = token();
      await store.tryAcquire({ kind: 'mutex', keys: [a], token: owner, ttl: LONG });
      await store.tryAcquire({ kind: 'mutex', keys: [b], token: other, ttl: LONG });
      const listener = await listen([a]);
      expect(await store.release({ kind: 'mutex', keys: [a, b], token: owner })).toBe(false);
      expect(await store.isLocked([a])).toBe(false);
      expect(await holds([b], other)).toBe(true);
      await listener.until(1);
      listener.stop();
      await store.release({ kind: 'mutex', keys: [b], token: other });
    });

    it('a listener that stopped hears nothing more', async () => {
      const k = key();
      const listener = await listen([k]);
      const still = await listen([k]); // another listener on the same key keeps listening
      listener.stop();
      const owner = token();
      await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG });
      await store.release({ kind: 'mutex', keys: [k], token: owner });
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
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [a, b], token: from, ttl: LONG });
      const listener = await listen([a]);
      const result = await store.handOver({ kind: 'mutex', keys: [a, b], from, to, ttl: LONG });
      expect(result.owned).toBe(true);
      expect(result.fence).toBeGreaterThan(fence!);
      expect(await holds([a, b], to)).toBe(true);
      expect(await holds([a], from)).toBe(false);
      // The receiver's release is the first notification heard: the hand-over sent none.
      expect(await store.release({ kind: 'mutex', keys: [a, b], token: to })).toBe(true);
      await listener.until(heardPerRelease());
      await sleep(50);
      expect(listener.heard.count).toBe(heardPerRelease());
      listener.stop();
    });

    it('from a token whose lease ended, the key free: not owned, but the receiver gets it with a fence', async () => {
      const k = key();
      const from = token();
      const to = token();
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [k], token: from, ttl: 50 });
      await sleep(100);
      const result = await store.handOver({ kind: 'mutex', keys: [k], from, to, ttl: LONG });
      expect(result.owned).toBe(false);
      expect(result.fence).toBeGreaterThan(fence!);
      expect(await holds([k], to)).toBe(true);
      expect(await store.release({ kind: 'mutex', keys: [k], token: to })).toBe(true);
    });

    it("when another owner holds a key: no fence, the giver's own keys are released, the other's kept", async () => {
      const [a, b] = [key(), key()];
      const from = token();
      const other = token();
      const to = token();
      await store.tryAcquire({ kind: 'mutex', keys: [a], token: from, ttl: LONG });
      await store.tryAcquire({ kind: 'mutex', keys: [b], token: other, ttl: LONG });
      const listener = await listen([a]);
      expect(await store.handOver({ kind: 'mutex', keys: [a, b], from, to, ttl: LONG })).toEqual({
        owned: false,
        fence: null,
      });
      expect(await store.isLocked([a])).toBe(false);
      await listener.until(1); // released as a release would: waiters hear of it
      expect(await holds([b], other)).toBe(true);
      expect(await holds([b], to)).toBe(false);
      listener.stop();
      await store.release({ kind: 'mutex', keys: [b], token: other });
    });

    it("a re-run (every key already the receiver's) answers owned with the fence it issued", async () => {
      for (const keys of [[key()], [key(), key()]]) {
        const from = token();
        const to = token();
        await store.tryAcquire({ kind: 'mutex', keys, token: from, ttl: LONG });
        const first = await store.handOver({ kind: 'mutex', keys, from, to, ttl: LONG });
        expect(first.owned).toBe(true);
        expect(await store.handOver({ kind: 'mutex', keys, from, to, ttl: LONG })).toEqual({
          owned: true,
          fence: first.fence,
        });
        expect(await holds(keys, to)).toBe(true);
        expect(await store.release({ kind: 'mutex', keys, token: to })).toBe(true);
        expect(await fenceOf(keys)).toBeGreaterThan(first.fence!);
      }
    });

    /**
     * An optimistic receiver runs with the giver's fence plus one before the store answers. When
     * the giver's lease vanished meanwhile and another token took the keys, the hand-over is
     * refused, and the fence that receiver ran with must still be below the other holder's, and
     * below any later one: a fenced resource keeps the newer holder's writes.
     */
    it("optimistic, the giver's lease gone and the keys taken by another: the receiver's fence stays below theirs", async () => {
      if (!store.capabilities.optimisticHandOver) return; // a quorum confirms every hand-over first
      for (const keys of [[key()], [key(), key()]]) {
        const [from, other, to] = [token(), token(), token()];
        const { fence } = await store.tryAcquire({ kind: 'mutex', keys, token: from, ttl: 50 });
        await sleep(100); // the giver's lease ends (an eviction or a DEL does the same to Redis)
        const taken = await store.tryAcquire({ kind: 'mutex', keys, token: other, ttl: LONG });
        const optimistic = { expectedFence: fence!, coveredFor: 0 };
        const result = await store.handOver({ kind: 'mutex', keys, from, to, ttl: LONG, optimistic });
        expect(result.fence).toBeNull();
        expect(taken.fence).toBeGreaterThan(fence! + 1);
        expect(await holds(keys, other)).toBe(true);
        expect(await store.release({ kind: 'mutex', keys, token: other })).toBe(true);
        expect(await fenceOf(keys)).toBeGreaterThan(fence! + 1);
      }
    });
  });

  describe('inspect', () => {
    it("names each held key's token, its fence and time left; nothing for a free key", async () => {
      const [a, b, free] = [key(), key(), key()];
      const owner = token();
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [a, b], token: owner, ttl: 5_000 });
      const holdings = await store.inspect({ kind: 'mutex', keys: [a, free, b] });
      expect(holdings.map((holding) => holding.key)).toEqual([a, b]);
      for (const holding of holdings) {
        expect(holding.token).toBe(owner);
        expect(holding.fence).toBe(fence);
        expect(holding.expiresIn).toBeGreaterThan(4_000);
        expect(holding.expiresIn).toBeLessThanOrEqual(5_000);
      }
      expect(await store.inspect({ kind: 'mutex', keys: [free] })).toEqual([]);
      await store.release({ kind: 'mutex', keys: [a, b], token: owner });
      expect(await store.inspect({ kind: 'mutex', keys: [a, b] })).toEqual([]);
    });

    it('reads, never writes: the holder keeps its lease and its fence', async () => {
      const k = key();
      const owner = token();
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG });
      await store.inspect({ kind: 'mutex', keys: [k] });
      expect(await holds([k], owner)).toBe(true);
      expect(await store.inspect({ kind: 'mutex', keys: [k] })).toMatchObject([{ key: k, token: owner, fence }]);
      await store.release({ kind: 'mutex', keys: [k], token: owner });
      expect(await fenceOf([k])).toBeGreaterThan(fence!);
    });
  });

  describe('forceRelease', () => {
    it("frees a held key whoever owns it, announces it, and answers the old holder's token and fence", async () => {
      const [k, free] = [key(), key()];
      const stuck = token();
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [k], token: stuck, ttl: LONG });
      const listener = await listen([k]);
      expect(await store.forceRelease({ kind: 'mutex', keys: [k, free] })).toEqual([{ key: k, token: stuck, fence }]);
      expect(await store.isLocked([k])).toBe(false);
      await listener.until(1);
      listener.stop();
      expect(await store.forceRelease({ kind: 'mutex', keys: [k] })).toEqual([]);
    });

    it("the next holder's fence is above the old one's; the old holder can neither extend nor release it", async () => {
      const k = key();
      const stuck = token();
      const old = await store.tryAcquire({ kind: 'mutex', keys: [k], token: stuck, ttl: LONG });
      await store.forceRelease({ kind: 'mutex', keys: [k] });
      const next = token();
      const taken = await store.tryAcquire({ kind: 'mutex', keys: [k], token: next, ttl: LONG });
      expect(taken.fence).toBeGreaterThan(old.fence!);
      expect(await store.extend({ kind: 'mutex', keys: [k], token: stuck, ttl: LONG })).toBe(false);
      expect(await store.release({ kind: 'mutex', keys: [k], token: stuck })).toBe(false);
      expect(await holds([k], next)).toBe(true);
      await store.release({ kind: 'mutex', keys: [k], token: next });
    });
  });

  describe('isLocked and expiry', () => {
    it('isLocked is true while any of the keys is held', async () => {
      const [a, b] = [key(), key()];
      expect(await store.isLocked([a, b])).toBe(false);
      const owner = token();
      await store.tryAcquire({ kind: 'mutex', keys: [b], token: owner, ttl: LONG });
      expect(await store.isLocked([a, b])).toBe(true);
      expect(await store.isLocked([a])).toBe(false);
      await store.release({ kind: 'mutex', keys: [b], token: owner });
      expect(await store.isLocked([a, b])).toBe(false);
    });

    it('a lease ends after its ttl: the keys are free for another token', async () => {
      const [a, b] = [key(), key()];
      const owner = token();
      await store.tryAcquire({ kind: 'mutex', keys: [a, b], token: owner, ttl: 100 });
      expect(await store.isLocked([a])).toBe(true);
      await sleep(150);
      expect(await store.isLocked([a, b])).toBe(false);
      const next = token();
      expect((await store.tryAcquire({ kind: 'mutex', keys: [a, b], token: next, ttl: LONG })).fence).toBeGreaterThan(
        0,
      );
      await store.release({ kind: 'mutex', keys: [a, b], token: next });
    });
  });

  describe('capabilities (each case runs on the stores that declare it)', () => {
    /** A giver's and a receiver's token, where the store hands over optimistically (else the case is skipped). */
    function giverAndReceiver(skip: (note?: string) => void): { from: string; to: string } {
      if (!store.capabilities.optimisticHandOver) skip();
      return { from: token(), to: token() };
    }

    /** The fence of a lease `from` took on `k`, which has ended by the time this returns. */
    async function endedLease(k: string, from: string): Promise<number> {
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [k], token: from, ttl: 50 });
      await sleep(100);
      return fence!;
    }

    /** An optimistic hand-over expecting `fence`, refused: no fence, not owned. */
    async function expectOptimisticRefused(
      keys: string[],
      from: string,
      to: string,
      fence: number,
      coveredFor: number,
    ) {
      const optimistic = { expectedFence: fence, coveredFor };
      expect(await store.handOver({ kind: 'mutex', keys, from, to, ttl: LONG, optimistic })).toEqual({
        owned: false,
        fence: null,
      });
    }

    it('declare the mutex, and optimisticNow(keys) is never true without optimisticHandOver', async () => {
      expect(store.capabilities.kinds).toContain('mutex');
      await store.isLocked([key()]); // connected (Redis)
      expect(store.optimisticNow([key()])).toBe(store.capabilities.optimisticHandOver);
    });

    it('optimisticHandOver: from the owner, counters unmoved: the receiver holds it with the fence plus one; no notification', async ({
      skip,
    }) => {
      const { from, to } = giverAndReceiver(skip);
      const [a, b] = [key(), key()];
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [a, b], token: from, ttl: LONG });
      const listener = await listen([a]);
      const optimistic = { expectedFence: fence!, coveredFor: LONG };
      const result = await store.handOver({ kind: 'mutex', keys: [a, b], from, to, ttl: LONG, optimistic });
      expect(result.owned).toBe(true);
      expect(result.fence).toBe(fence! + 1);
      expect(await holds([a, b], to)).toBe(true);
      expect(await holds([a], from)).toBe(false);
      // A re-run answers as the first run did.
      expect(await store.handOver({ kind: 'mutex', keys: [a, b], from, to, ttl: LONG, optimistic })).toMatchObject({
        owned: true,
        fence: fence! + 1,
      });
      expect(await store.release({ kind: 'mutex', keys: [a, b], token: to })).toBe(true);
      await listener.until(1);
      await sleep(50);
      expect(listener.heard.count).toBe(1); // the receiver's release only
      listener.stop();
      expect(await fenceOf([a])).toBeGreaterThan(fence! + 1);
    });

    it("optimisticHandOver refused, the giver's lease ended: no fence, and the receiver's fence is burnt", async ({
      skip,
    }) => {
      const { from, to } = giverAndReceiver(skip);
      const k = key();
      const fence = await endedLease(k, from);
      await expectOptimisticRefused([k], from, to, fence, 0);
      expect(await store.isLocked([k])).toBe(false);
      expect(await holds([k], to)).toBe(false);
      // The receiver ran with fence + 1: no later holder is issued it again.
      expect(await fenceOf([k])).toBeGreaterThan(fence + 1);
    });

    it("optimisticHandOver refused, another holder took the lock meanwhile: no fence, the other's lease kept, fences above both", async ({
      skip,
    }) => {
      if (!store.capabilities.optimisticHandOver) skip();
      const k = key();
      const from = token();
      const other = token();
      const to = token();
      const fence = await endedLease(k, from);
      const taken = await store.tryAcquire({ kind: 'mutex', keys: [k], token: other, ttl: LONG });
      expect(taken.fence).toBeGreaterThan(fence);
      await expectOptimisticRefused([k], from, to, fence, 0);
      expect(await holds([k], other)).toBe(true);
      expect(await holds([k], to)).toBe(false);
      expect(await store.release({ kind: 'mutex', keys: [k], token: other })).toBe(true);
      expect(await fenceOf([k])).toBeGreaterThan(Math.max(taken.fence!, fence + 1));
    });

    it("optimisticHandOver refused, a key's counter moved past the expected fence: the giver's keys released", async ({
      skip,
    }) => {
      const { from, to } = giverAndReceiver(skip);
      const [a, b] = [key(), key()];
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [a], token: from, ttl: LONG });
      // b's counter was issued a fence after a's: the giver's expected fence is not b's.
      expect(await fenceOf([b])).toBeGreaterThan(fence!);
      await store.tryAcquire({ kind: 'mutex', keys: [b], token: from, ttl: LONG });
      const listener = await listen([a]);
      await expectOptimisticRefused([a, b], from, to, fence!, LONG);
      expect(await store.isLocked([a, b])).toBe(false);
      await listener.until(1); // released as a release would: waiters hear of it
      listener.stop();
    });

    it('releaseIds: listeners hear a named release under its name, an unnamed one as ""', async ({ skip }) => {
      if (!store.capabilities.releaseIds) skip();
      const k = key();
      const heard: string[] = [];
      const stop = await store.onRelease([k], (releaseId) => heard.push(releaseId));
      for (const releaseId of ['release-1', undefined]) {
        const owner = token();
        await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG });
        expect(await store.release({ kind: 'mutex', keys: [k], token: owner, releaseId })).toBe(true);
        await waitFor(() => heard.length === (releaseId ? 1 : 2), 2_000);
      }
      expect(heard).toEqual(['release-1', '']);
      stop();
    });

    it('countsListeners: a hand-over says whether listeners other than this store wait; without it, never', async () => {
      const k = key();
      const handOver = async () => {
        const from = token();
        const to = token();
        await store.tryAcquire({ kind: 'mutex', keys: [k], token: from, ttl: LONG });
        const result = await store.handOver({ kind: 'mutex', keys: [k], from, to, ttl: LONG });
        expect(result.fence).not.toBeNull();
        await store.release({ kind: 'mutex', keys: [k], token: to });
        return result.othersWaiting;
      };
      const own = await store.onRelease([k], () => undefined);
      const counts = store.capabilities.countsListeners;
      expect(await handOver()).toBe(counts ? false : undefined);
      const elsewhere = run.createStore(TIMEOUT);
      const theirs = await elsewhere.onRelease([k], () => undefined);
      try {
        expect(await handOver()).toBe(counts ? true : undefined);
      } finally {
        theirs();
        await elsewhere.close();
        own();
      }
    });
  });

  it('after close(), every call rejects with LockStoreError', async () => {
    const closing = run.createStore(TIMEOUT);
    const k = key();
    await closing.isLocked([k]); // connected (Redis)
    await closing.close();
    const calls: [string, () => Promise<unknown>][] = [
      ['tryAcquire', () => closing.tryAcquire({ kind: 'mutex', keys: [k], token: token(), ttl: LONG })],
      ['extend', () => closing.extend({ kind: 'mutex', keys: [k], token: token(), ttl: LONG })],
      ['release', () => closing.release({ kind: 'mutex', keys: [k], token: token() })],
      ['handOver', () => closing.handOver({ kind: 'mutex', keys: [k], from: token(), to: token(), ttl: LONG })],
      ['isLocked', () => closing.isLocked([k])],
      ['inspect', () => closing.inspect({ kind: 'mutex', keys: [k] })],
      ['forceRelease', () => closing.forceRelease({ kind: 'mutex', keys: [k] })],
      ['onRelease', () => closing.onRelease([k], () => undefined)],
    ];
    for (const [name, call] of calls) {
      // Promise.resolve().then: a call that throws at once counts as failing too.
      const outcome = await Promise.resolve()
        .then(call)
        .then(
          (value) => value,
          (error: unknown) => error,
        );
      expect(outcome, name).toBeInstanceOf(LockStoreError);
    }
    await expect(closing.close()).resolves.toBeUndefined(); // closing again is harmless
  });
});
