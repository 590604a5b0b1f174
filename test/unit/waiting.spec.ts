import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LockNotAcquiredError, LockStoreError } from '../../lib';
import { Acquisition, type AcquisitionHost } from '../../lib/core/waiting/acquisition';
import type { Grant } from '../../lib/core/waiting/grant';
import { MUTEX_HAND_OVER } from '../../lib/core/waiting/hand-over-policy';
import type { HandOverRun } from '../../lib/core/waiting/hand-over-run';
import type { Releasing } from '../../lib/core/waiting/releasing';
import { WaitQueues } from '../../lib/core/waiting/wait-queues';
import { Waiter } from '../../lib/core/waiting/waiter';
import {
  MAX_LOCAL_HAND_OVERS,
  MAX_UNCONTESTED_HAND_OVERS,
  OPTIMISTIC_HAND_OVER_MARGIN,
  RETRY_MIN_DELAY,
  YIELD_TO_OTHER_PROCESSES,
} from '../../lib/core/tuning';
import { MemoryStore } from '../../lib/stores/memory/memory.store';

/**
 * The waiting layer (waiting/) on a fake clock (the global `performance`, which waiting/ reads), over a real MemoryStore (its behaviour is pinned
 * by store-contract.spec.ts): queue order, head-only attempts, wake-ups, the missed-release
 * retry, the hand-over policy's decisions and its fairness caps. Polls and yields are timers, so
 * a wake-up that needs no timer is seen without advancing the clock.
 */
describe('waiting (fake timers, memory store)', () => {
  const KEYS = ['lock:{k}'];
  const LONG = 60_000;
  let store: MemoryStore;
  let queues: WaitQueues;
  let host: AcquisitionHost;
  /** Tokens of every tryAcquire sent, in order. */
  let attempts: string[];
  let t = 0;
  const token = () => `token-${++t}`;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    store = new MemoryStore();
    queues = new WaitQueues(store);
    host = { store, waitQueues: queues, assertOpen: () => undefined };
    attempts = [];
    const tryAcquire = store.tryAcquire.bind(store);
    vi.spyOn(store, 'tryAcquire').mockImplementation((request) => {
      attempts.push(request.token);
      return tryAcquire(request);
    });
  });

  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });

  /** Lets every settled promise run its continuations, without moving the (fake) clock. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };

  /** One caller's acquisition, tracked: `grant` once it won, `error` once it failed. */
  function acquire(caller: string, wait = LONG) {
    const request = { kind: 'mutex', keys: KEYS, userKeys: ['k'], token: caller, ttl: LONG, wait } as const;
    const state: { grant?: Grant; error?: unknown } = {};
    const done = new Acquisition(host, request).run().then(
      (grant) => (state.grant = grant),
      (error: unknown) => (state.error = error),
    );
    return { state, done };
  }

  /** Takes the keys for `holder` directly at the store (another holder, say). */
  async function hold(holder: string): Promise<number> {
    const { fence } = await store.tryAcquire({ kind: 'mutex', keys: KEYS, token: holder, ttl: LONG });
    expect(fence).not.toBeNull();
    return fence!;
  }

  /** What a lease of `holder` hands the wait queues on release. */
  function releasing(holder: string, fence: number, validUntil = 0, handOverRun?: HandOverRun): Releasing {
    return { kind: 'mutex', keys: KEYS, token: holder, fence, validUntil, handOverRun };
  }

  it('only the head attempts: later waiters queue behind it without a try of their own', async () => {
    const holder = token();
    await hold(holder);
    const [a, b, c] = [token(), token(), token()];
    acquire(a);
    await settle();
    acquire(b);
    acquire(c);
    await settle();
    await vi.advanceTimersByTimeAsync(5_000); // many polls
    expect(attempts.filter((caller) => caller !== holder).length).toBeGreaterThan(3);
    expect(new Set(attempts.slice(1))).toEqual(new Set([a]));
  });

  it('a release announced by the store wakes the head at once (no poll), which takes the lock', async () => {
    const holder = token();
    await hold(holder);
    const a = token();
    const waiting = acquire(a);
    await settle();
    const before = attempts.length;
    expect(await store.release({ kind: 'mutex', keys: KEYS, token: holder })).toBe(true);
    await settle();
    expect(attempts.length).toBe(before + 1);
    expect(waiting.state.grant?.fence).toBeGreaterThan(0);
  });

  it('queue order: each release hands the lock to the next waiter in arrival order, fences rising', async () => {
    const holder = token();
    let fence = await hold(holder);
    const callers = [token(), token(), token()];
    const waiting: ReturnType<typeof acquire>[] = [];
    for (const caller of callers) {
      waiting.push(acquire(caller));
      await settle();
    }
    let giver = holder;
    for (const [index, caller] of callers.entries()) {
      expect(await queues.releaseOrHandOver(releasing(giver, fence))).toBe(true);
      await settle();
      const { grant } = waiting[index]!.state;
      expect(grant, caller).toBeDefined();
      expect(grant!.fence).toBeGreaterThan(fence);
      for (const later of waiting.slice(index + 1)) expect(later.state.grant).toBeUndefined();
      expect(await store.extend({ kind: 'mutex', keys: KEYS, token: caller, ttl: LONG })).toBe(true);
      [giver, fence] = [caller, grant!.fence];
    }
  });

  it('a release heard while the head attempts (missed) makes it attempt again at once, not at its next poll', async () => {
    const holder = token();
    await hold(holder);
    const a = token();
    const tryAcquire = vi.mocked(store.tryAcquire).getMockImplementation()!;
    vi.mocked(store.tryAcquire).mockImplementation(async (request) => {
      const answer = await tryAcquire(request);
      // The head's first attempt from the queue (a's second): its busy answer was computed, and
      // the release is announced before the head hears that answer.
      if (attempts.filter((caller) => caller === a).length === 2) {
        await store.release({ kind: 'mutex', keys: KEYS, token: holder }); // heard in this turn
      }
      return answer;
    });
    const waiting = acquire(a);
    await settle();
    expect(attempts.filter((caller) => caller === a)).toHaveLength(3);
    expect(waiting.state.grant?.fence).toBeGreaterThan(0);
  });

  it('a waiter that gives up leaves the queue; the next head attempts at once', async () => {
    const holder = token();
    await hold(holder);
    const [a, b] = [token(), token()];
    const first = acquire(a, 1_000);
    await settle();
    const second = acquire(b);
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(first.state.error).toBeInstanceOf(LockNotAcquiredError);
    expect(attempts).toContain(b); // woken as the new head ('head'), it tried
    await store.release({ kind: 'mutex', keys: KEYS, token: holder });
    await settle();
    expect(second.state.grant?.fence).toBeGreaterThan(0);
  });

  it('the head behind a waiter that just took the lock waits for its release, not a poll later', async () => {
    const holder = token();
    const fence = await hold(holder);
    const [a, b] = [token(), token()];
    const first = acquire(a);
    await settle();
    acquire(b);
    await settle();
    const before = attempts.length;
    await queues.releaseOrHandOver(releasing(holder, fence));
    await settle();
    expect(first.state.grant!.fence).toBeGreaterThan(fence);
    // b is the head now, behind a's lock: it sleeps (its poll aside), no attempt on becoming head.
    await vi.advanceTimersByTimeAsync(RETRY_MIN_DELAY - 1);
    expect(attempts.slice(before)).toEqual([]);
  });

  describe('hand-over or release', () => {
    it('nobody waiting: a release through the store', async () => {
      const holder = token();
      const fence = await hold(holder);
      const handOver = vi.spyOn(store, 'handOver');
      const release = vi.spyOn(store, 'release');
      expect(await queues.releaseOrHandOver(releasing(holder, fence))).toBe(true);
      expect(handOver).not.toHaveBeenCalled();
      expect(release).toHaveBeenCalledTimes(1);
    });

    it('with plenty of the lease left, optimistic: the head starts at once with the fence plus one', async () => {
      const holder = token();
      const fence = await hold(holder);
      const a = token();
      const waiting = acquire(a);
      await settle();
      const handOver = vi.spyOn(store, 'handOver');
      const given = queues.releaseOrHandOver(releasing(holder, fence, performance.now() + 10_000));
      expect(handOver.mock.calls[0]![0].optimistic).toEqual({ expectedFence: fence, coveredFor: 10_000 });
      expect(await given).toBe(true);
      await settle();
      expect(waiting.state.grant!.fence).toBe(fence + 1);
      expect(waiting.state.grant!.provisional!.until).toBe(performance.now() + 10_000);
      expect(await waiting.state.grant!.provisional!.confirmed).toBe(true);
    });

    it.each([
      ['too little of the lease left', OPTIMISTIC_HAND_OVER_MARGIN, true],
      ['a store that cannot confirm soon', 10_000, false],
    ] as const)('%s: the head starts once the store confirmed', async (_case, leaseLeft, optimisticNow) => {
      const holder = token();
      const fence = await hold(holder);
      const waiting = acquire(token());
      await settle();
      vi.spyOn(store, 'optimisticNow').mockReturnValue(optimisticNow);
      const handOver = vi.spyOn(store, 'handOver');
      expect(await queues.releaseOrHandOver(releasing(holder, fence, performance.now() + leaseLeft))).toBe(true);
      await settle();
      expect(handOver.mock.calls[0]![0].optimistic).toBeUndefined();
      expect(waiting.state.grant!.provisional).toBeUndefined();
      expect(waiting.state.grant!.fence).toBeGreaterThan(fence);
    });
  });

  describe('the mutex hand-over policy', () => {
    const store = { optimisticNow: () => true };
    const far = () => performance.now() + 10_000;
    const run = (local: number, sinceRedis: number, othersListen = false): HandOverRun => ({
      local,
      sinceRedis,
      othersListen,
      spent: 0,
    });
    const waiter = (caller = 'receiver') => new Waiter({ kind: 'mutex', keys: KEYS, token: caller, ttl: LONG });

    it('routes to the store when nobody waits, the head is busy or gone, or it is the giver itself', () => {
      const give = releasing('giver', 1, far());
      expect(MUTEX_HAND_OVER.route(give, undefined, store, performance.now())).toBe('release');
      const busy = waiter();
      busy.attempting();
      expect(MUTEX_HAND_OVER.route(give, busy, store, performance.now())).toBe('release');
      const gone = waiter();
      gone.left();
      expect(MUTEX_HAND_OVER.route(give, gone, store, performance.now())).toBe('release');
      expect(MUTEX_HAND_OVER.route(give, waiter('giver'), store, performance.now())).toBe('release');
      expect(MUTEX_HAND_OVER.route(give, waiter(), store, performance.now())).toBe('hand-over-at-once');
    });

    it('caps a run of local hand-overs, and the head yields only when others were heard listening', () => {
      const head = waiter();
      const under = run(MAX_LOCAL_HAND_OVERS - 1, MAX_UNCONTESTED_HAND_OVERS - 1);
      expect(MUTEX_HAND_OVER.route(releasing('giver', 1, far(), under), head, store, performance.now())).toBe(
        'hand-over-at-once',
      );
      for (const capped of [run(MAX_LOCAL_HAND_OVERS, 0, true), run(0, MAX_UNCONTESTED_HAND_OVERS)]) {
        const give = releasing('giver', 1, far(), capped);
        expect(MUTEX_HAND_OVER.route(give, head, store, performance.now())).toBe('release-capped');
        expect(MUTEX_HAND_OVER.yieldsAfterCap(give)).toBe(capped.othersListen);
      }
    });

    it('counts each hand-over in its run; a reply that nobody else listens restarts the local count only', () => {
      const started = MUTEX_HAND_OVER.continueRun(releasing('giver', 1), false);
      expect(started).toEqual({ local: 1, sinceRedis: 1, othersListen: false, spent: 0 });
      const continued = MUTEX_HAND_OVER.continueRun(releasing('giver', 1, 0, started), false);
      expect(continued).toBe(started);
      expect(continued).toEqual({ local: 2, sinceRedis: 2, othersListen: false, spent: 0 });
      MUTEX_HAND_OVER.answered(continued, true, false);
      expect(continued).toEqual({ local: 2, sinceRedis: 2, othersListen: true, spent: 0 });
      MUTEX_HAND_OVER.answered(continued, false, false);
      expect(continued).toEqual({ local: 0, sinceRedis: 2, othersListen: false, spent: 0 });
      MUTEX_HAND_OVER.answered(continued, undefined, false);
      expect(continued).toEqual({ local: 0, sinceRedis: 2, othersListen: false, spent: 0 });
    });
  });

  it('fairness: two callers taking turns hand over MAX_LOCAL_HAND_OVERS times, then release through the store', async () => {
    const handOver = vi.spyOn(store, 'handOver');
    const release = vi.spyOn(store, 'release');
    const [a, b] = [token(), token()];
    let fence = await hold(a);
    let run: HandOverRun | undefined;
    let giver = a;
    for (let turn = 0; turn < MAX_LOCAL_HAND_OVERS; turn++) {
      const next = giver === a ? b : a;
      const waiting = acquire(next);
      await settle();
      await queues.releaseOrHandOver(releasing(giver, fence, 0, run));
      await settle();
      ({ fence } = waiting.state.grant!);
      run = waiting.state.grant!.handOverRun;
      giver = next;
    }
    expect(handOver).toHaveBeenCalledTimes(MAX_LOCAL_HAND_OVERS);
    expect(release).not.toHaveBeenCalled();
    // The memory store cannot tell who listens, so the count never restarts: the cap applies.
    const next = giver === a ? b : a;
    const waiting = acquire(next);
    await settle();
    await queues.releaseOrHandOver(releasing(giver, fence, 0, run));
    expect(handOver).toHaveBeenCalledTimes(MAX_LOCAL_HAND_OVERS);
    expect(release).toHaveBeenCalledTimes(1);
    await settle();
    // Nobody else was heard listening: no yield; the release's notification woke the head.
    expect(waiting.state.grant?.handOverRun).toBeUndefined();
    expect(waiting.state.grant?.fence).toBeGreaterThan(fence);
  });

  it('after a capped release with others listening, the head lets them try first (a short yield)', async () => {
    const [a, b] = [token(), token()];
    const fence = await hold(a);
    const waiting = acquire(b);
    await settle();
    const before = attempts.length;
    await queues.releaseOrHandOver(
      releasing(a, fence, 0, { local: MAX_LOCAL_HAND_OVERS, sinceRedis: 0, othersListen: true, spent: 0 }),
    );
    await settle();
    expect(attempts.length).toBe(before); // yielding
    await vi.advanceTimersByTimeAsync(YIELD_TO_OTHER_PROCESSES);
    await settle();
    expect(attempts.length).toBe(before + 1);
    expect(waiting.state.grant?.fence).toBeGreaterThan(fence);
  });

  it('shutdown wakes every waiter, which fails with the store closed; later releases go to the store', async () => {
    const holder = token();
    const fence = await hold(holder);
    let open = true;
    host = {
      store,
      waitQueues: queues,
      assertOpen: () => {
        if (!open) throw LockStoreError.closed();
      },
    };
    const waiting = acquire(token());
    await settle();
    open = false;
    queues.closeAll();
    await settle();
    expect(waiting.state.error).toBeInstanceOf(LockStoreError);
    const handOver = vi.spyOn(store, 'handOver');
    expect(await queues.releaseOrHandOver(releasing(holder, fence, performance.now() + 10_000))).toBe(true);
    expect(handOver).not.toHaveBeenCalled();
  });
});
