import type { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LockLostError, runOutsideLockScope } from '../../lib';
import type { LeaseRequest, LockStore } from '../../lib/stores/lock-store.interface';
import { Lease } from '../../lib/core/lease/lease';
import { LeaseTimers } from '../../lib/core/lease/lease-timers';
import type { LeaseContext, LockGrant, Releasing } from '../../lib/core/lease/lease-context';
import { DRIFT_FIXED, DRIFT_RATE, MAX_RENEWAL_RETRY_INTERVAL, RENEW_AT } from '../../lib/core/tuning';

/**
 * The lease's timing logic on a fake clock, through its LeaseContext seam: the store is a scripted
 * double answering extend() as each test says (the store's own behaviour is pinned by
 * store-contract.spec.ts), so renewals, retries and deadlines fall on exact milliseconds.
 */
describe('Lease (fake timers)', () => {
  /** When the lease counts as ended, as lib/lease.ts defines it: the length less the drift allowance. */
  const leaseEnd = (from: number, length: number) => from + length - Math.floor(length * DRIFT_RATE) - DRIFT_FIXED;

  let start: number;
  /** Milliseconds since the test's lease was granted, on the fake clock. */
  const elapsed = () => performance.now() - start;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
    start = performance.now();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /**
   * How the double's extend() answers: true/false, an error (rejects), 'never' (stays pending), or
   * `{ after, answer }`: true/false that many ms later.
   */
  type Answer = boolean | Error | 'never' | { after: number; answer: boolean };

  /** A promise that resolves to `value` (or rejects with it, an Error) `at` ms after the grant. */
  function settleAt<T>(at: number, value: T | Error): Promise<T> {
    return new Promise((resolve, reject) =>
      setTimeout(() => (value instanceof Error ? reject(value) : resolve(value)), at - elapsed()),
    );
  }

  /** A LeaseContext whose store is a scripted double; `extends` records each extend call and when it came. */
  function double(answers: Answer | ((call: number) => Answer) = true) {
    const extendCalls: { at: number; keys: readonly string[]; token: string; ttl: number }[] = [];
    const answerFor = typeof answers === 'function' ? answers : () => answers;
    const unused = () => Promise.reject(new Error('not part of a lease: the double does not answer it'));
    const store: LockStore = {
      capabilities: {
        kinds: ['mutex'],
        optimisticHandOver: false,
        countsListeners: false,
        releaseIds: false,
        announcementsPerRelease: 1,
      },
      optimisticNow: () => false,
      extend: vi.fn(({ keys, token, ttl }: LeaseRequest) => {
        extendCalls.push({ at: elapsed(), keys, token, ttl });
        const answer = answerFor(extendCalls.length);
        if (answer === 'never') return new Promise<boolean>(() => undefined);
        if (typeof answer === 'object' && !(answer instanceof Error))
          return settleAt(elapsed() + answer.after, answer.answer);
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      }),
      tryAcquire: unused,
      release: unused,
      handOver: unused,
      isLocked: unused,
      onRelease: unused,
      // Not `unused`: chai calls an object's own `inspect()` when it prints it in a failure.
      inspect: async () => [],
      forceRelease: unused,
      close: async () => undefined,
    };
    const context = {
      store,
      logger: { warn: vi.fn(), error: vi.fn(), log: vi.fn(), debug: vi.fn() } as unknown as Logger,
      timers: new LeaseTimers(runOutsideLockScope),
      releaseLock: vi.fn(async (_releasing: Releasing) => true),
      leaseSettled: vi.fn((_lease: Lease) => undefined),
      leaseLost: vi.fn((_lease: Lease, _error: LockLostError) => undefined),
    } satisfies LeaseContext<Lease>;
    return { context, extendCalls };
  }

  function lease(context: LeaseContext<Lease>, grant: Partial<LockGrant> = {}): Lease {
    return new Lease(
      {
        kind: 'mutex',
        keys: ['k'],
        storeKeys: ['lock:{k}'],
        token: 'token-1',
        fence: 7,
        ttl: 3_000,
        autoRenew: true,
        minHold: 0,
        maxHold: Infinity,
        sentAt: performance.now(),
        name: 'k',
        ...grant,
      },
      context,
    );
  }

  /** Advances the fake clock to `at` ms after the grant, running timers and the promises they settle. */
  const advanceTo = (at: number) => vi.advanceTimersByTimeAsync(at - elapsed());

  /** The lease lost, as its signal, the context and extend() tell it. */
  async function expectLost(
    held: Lease,
    context: ReturnType<typeof double>['context'],
    reason: LockLostError['reason'],
  ) {
    expect(held.held).toBe(false);
    expect(held.signal.aborted).toBe(true);
    const error = held.signal.reason as LockLostError;
    expect(error).toBeInstanceOf(LockLostError);
    expect(error.reason).toBe(reason);
    expect(error.keys).toEqual(['k']);
    expect(context.leaseLost).toHaveBeenCalledTimes(1);
    expect(context.leaseLost).toHaveBeenCalledWith(held, error);
    expect(context.leaseSettled).toHaveBeenCalledTimes(1);
    await expect(held.extend(1_000)).rejects.toBe(error);
  }

  it('renews at ttl × RENEW_AT, each time for the full ttl, and stays held past the first lease', async () => {
    const { context, extendCalls } = double(true);
    const held = lease(context, { ttl: 3_000 });
    const every = 3_000 * RENEW_AT;
    await advanceTo(every - 1);
    expect(extendCalls).toEqual([]);
    await advanceTo(every);
    expect(extendCalls).toEqual([{ at: every, keys: ['lock:{k}'], token: 'token-1', ttl: 3_000 }]);
    await advanceTo(10_000);
    expect(extendCalls.map((call) => call.at)).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * every));
    expect(held.held).toBe(true);
    expect(held.signal.aborted).toBe(false);
    expect(context.leaseLost).not.toHaveBeenCalled();
    await held.release();
  });

  it("a renewal that never answers: lost as 'unreachable' at the deadline, though extend is still pending", async () => {
    const { context, extendCalls } = double('never');
    const held = lease(context, { ttl: 3_000 });
    const deadline = leaseEnd(0, 3_000);
    await advanceTo(deadline - 1);
    expect(extendCalls).toHaveLength(1); // sent at ttl/3, no second one while it is in flight
    expect(held.held).toBe(true);
    await advanceTo(deadline);
    await expectLost(held, context, 'unreachable');
    expect(extendCalls).toHaveLength(1);
  });

  it('a failed renewal is retried every tenth of the lease until the deadline', async () => {
    const { context, extendCalls } = double(new Error('connection reset'));
    const held = lease(context, { ttl: 3_000 });
    const deadline = leaseEnd(0, 3_000);
    await advanceTo(deadline - 1);
    const first = 3_000 * RENEW_AT;
    const retries = Math.floor((deadline - 1 - first) / 300);
    expect(extendCalls.map((call) => call.at)).toEqual(Array.from({ length: retries + 1 }, (_, i) => first + i * 300));
    expect(context.logger.warn).toHaveBeenCalledTimes(extendCalls.length);
    expect(held.held).toBe(true);
    await advanceTo(deadline);
    // Every renewal failed: at the deadline the lease is lost because Redis could not be reached.
    await expectLost(held, context, 'unreachable');
  });

  it('retries are never further apart than MAX_RENEWAL_RETRY_INTERVAL', async () => {
    const ttl = 30_000; // a tenth would be 3 s
    const { context, extendCalls } = double((call) => (call === 1 ? new Error('timeout') : true));
    const held = lease(context, { ttl });
    await advanceTo(ttl * RENEW_AT + MAX_RENEWAL_RETRY_INTERVAL);
    expect(extendCalls.map((call) => call.at)).toEqual([ttl * RENEW_AT, ttl * RENEW_AT + MAX_RENEWAL_RETRY_INTERVAL]);
    expect(held.held).toBe(true);
    await held.release();
  });

  it("extend answering false (another owner, or nobody): lost as 'not-held' at once, no more renewals", async () => {
    const { context, extendCalls } = double(false);
    const held = lease(context, { ttl: 3_000 });
    await advanceTo(1_000);
    await expectLost(held, context, 'not-held');
    await advanceTo(20_000);
    expect(extendCalls).toHaveLength(1);
  });

  it("maxHold caps renewal: the last renewal is cut to what is left, and the lease ends as 'max-hold'", async () => {
    const { context, extendCalls } = double(true);
    const held = lease(context, { ttl: 3_000, maxHold: 5_000 });
    // Renewals at 1000 and 2000 for the full 3000; at 3000 only 2000 is left under maxHold.
    const lastEnd = leaseEnd(3_000, 2_000);
    await advanceTo(lastEnd - 1);
    expect(extendCalls.map(({ at, ttl }) => [at, ttl])).toEqual([
      [1_000, 3_000],
      [2_000, 3_000],
      [3_000, 2_000],
    ]);
    expect(held.held).toBe(true);
    await advanceTo(lastEnd);
    await expectLost(held, context, 'max-hold');
    expect(lastEnd).toBeLessThanOrEqual(5_000);
    expect(extendCalls).toHaveLength(3);
  });

  it("autoRenew false: no renewal, and the lease ends as 'expired' at the deadline", async () => {
    const { context, extendCalls } = double(true);
    const held = lease(context, { ttl: 3_000, autoRenew: false });
    const deadline = leaseEnd(0, 3_000);
    await advanceTo(deadline - 1);
    expect(held.held).toBe(true);
    await advanceTo(deadline);
    await expectLost(held, context, 'expired');
    expect(extendCalls).toEqual([]);
  });

  it('release lets go through the context once, stops the timer, and is idempotent', async () => {
    const { context, extendCalls } = double(true);
    const held = lease(context, { ttl: 3_000 });
    await advanceTo(500);
    const first = held.release();
    expect(held.release()).toBe(first);
    expect(await first).toBe(true);
    expect(await held.release()).toBe(true);
    expect(context.releaseLock).toHaveBeenCalledTimes(1);
    expect(context.releaseLock).toHaveBeenCalledWith(expect.objectContaining({ keys: ['lock:{k}'], token: 'token-1' }));
    expect(context.leaseSettled).toHaveBeenCalledTimes(1);
    expect(context.timers.size).toBe(0); // the lease left the shared timer queue
    await advanceTo(30_000);
    expect(extendCalls).toEqual([]);
    expect(context.leaseLost).not.toHaveBeenCalled();
    expect(held.signal.aborted).toBe(false);
  });

  it('releaseHandle: with retained handles, only the last one releases; the lease renews until then', async () => {
    const { context, extendCalls } = double(true);
    const held = lease(context, { ttl: 3_000 });
    held.retain();
    held.retain();
    expect(await held.releaseHandle()).toBe(true);
    expect(await held.releaseHandle()).toBe(true);
    expect(context.releaseLock).not.toHaveBeenCalled();
    await advanceTo(1_000);
    expect(extendCalls).toHaveLength(1); // still held, still renewed
    expect(await held.releaseHandle()).toBe(true);
    expect(context.releaseLock).toHaveBeenCalledTimes(1);
    expect(held.held).toBe(false);
  });

  it('minHold: a release before it has passed extends the lease by the time left instead of deleting it', async () => {
    const { context, extendCalls } = double(true);
    const held = lease(context, { ttl: 3_000, minHold: 2_000 });
    await advanceTo(500);
    expect(await held.release()).toBe(true);
    expect(extendCalls).toEqual([{ at: 500, keys: ['lock:{k}'], token: 'token-1', ttl: 1_500 }]);
    expect(context.releaseLock).not.toHaveBeenCalled();
    expect(held.held).toBe(false);
    expect(context.timers.size).toBe(0); // the lease left the shared timer queue

    // Once minHold has passed, a release deletes.
    const later = double(true);
    const second = lease(later.context, { ttl: 3_000, minHold: 2_000, autoRenew: false });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await second.release()).toBe(true);
    expect(later.context.releaseLock).toHaveBeenCalledTimes(1);
    expect(later.extendCalls).toEqual([]);
  });

  it('a lost lease: signal aborts with the LockLostError, leaseLost is called once, a later release answers false', async () => {
    const { context } = double(false);
    const held = lease(context, { ttl: 3_000 });
    const aborted = vi.fn();
    held.signal.addEventListener('abort', aborted);
    await advanceTo(1_000);
    expect(aborted).toHaveBeenCalledTimes(1);
    await expectLost(held, context, 'not-held');
    await advanceTo(20_000); // no later tick reports it again
    expect(context.leaseLost).toHaveBeenCalledTimes(1);
    expect((held.signal.reason as LockLostError).reason).toBe('not-held');
    expect(await held.release()).toBe(false);
  });

  describe('state transitions', () => {
    it('an optimistic hand-over: no renewal until Redis confirms it, then renewals count from its send', async () => {
      const { context, extendCalls } = double(true);
      const held = lease(context, { provisional: { until: 1_500, confirmed: settleAt(200, true) } });
      await advanceTo(3_500);
      expect(extendCalls.map((call) => call.at)).toEqual([1_000, 2_000, 3_000]);
      expect(held.held).toBe(true);
      expect(context.leaseLost).not.toHaveBeenCalled();
      await held.release();
    });

    it("an optimistic hand-over Redis refuses: lost as 'not-held' at once", async () => {
      const { context, extendCalls } = double(true);
      const held = lease(context, { provisional: { until: 1_500, confirmed: settleAt(200, false) } });
      await advanceTo(199);
      expect(held.held).toBe(true);
      await advanceTo(200);
      await expectLost(held, context, 'not-held');
      expect(extendCalls).toEqual([]);
    });

    it("an optimistic hand-over Redis cannot confirm: lost as 'unreachable' when the answer fails", async () => {
      const { context } = double(true);
      const held = lease(context, {
        provisional: { until: 1_500, confirmed: settleAt<boolean>(200, new Error('reset')) },
      });
      await advanceTo(200);
      await expectLost(held, context, 'unreachable');
    });

    it("an optimistic hand-over left unanswered: lost as 'unreachable' at the giver's deadline, never renewed", async () => {
      const { context, extendCalls } = double(true);
      const held = lease(context, { provisional: { until: 1_500, confirmed: new Promise<boolean>(() => undefined) } });
      await advanceTo(1_499);
      expect(held.held).toBe(true);
      await advanceTo(1_500);
      await expectLost(held, context, 'unreachable');
      expect(extendCalls).toEqual([]);
    });

    it("an extend cut short by maxHold caps the lease: no more renewals, lost as 'max-hold'", async () => {
      const { context, extendCalls } = double(true);
      const held = lease(context, { ttl: 3_000, maxHold: 2_500 });
      await advanceTo(500);
      await held.extend(3_000);
      expect(extendCalls.map(({ at, ttl }) => [at, ttl])).toEqual([[500, 2_000]]);
      const end = leaseEnd(500, 2_000);
      await advanceTo(end - 1);
      expect(extendCalls).toHaveLength(1);
      expect(held.held).toBe(true);
      await advanceTo(end);
      await expectLost(held, context, 'max-hold');
    });

    it('an extend confirmed while a renewal is in flight: renewals go on once that renewal answers', async () => {
      // The renewal sent at 1000 answers at 1300, after the extend sent at 1100 was confirmed.
      const { context, extendCalls } = double((call) => (call === 1 ? { after: 300, answer: true } : true));
      const held = lease(context, { ttl: 3_000 });
      await advanceTo(1_100);
      await held.extend(3_000);
      await advanceTo(10_000);
      expect(extendCalls.slice(0, 4).map((call) => call.at)).toEqual([1_000, 1_100, 2_100, 3_100]);
      expect(held.held).toBe(true);
      expect(context.leaseLost).not.toHaveBeenCalled();
      await held.release();
    });

    it('an extend confirmed before the hand-over it runs on: renewals start once Redis confirms it', async () => {
      const { context, extendCalls } = double(true);
      const held = lease(context, { ttl: 3_000, provisional: { until: 1_500, confirmed: settleAt(300, true) } });
      await advanceTo(100);
      await held.extend(3_000);
      await advanceTo(10_000);
      expect(extendCalls.slice(0, 3).map((call) => call.at)).toEqual([100, 1_100, 2_100]);
      expect(held.held).toBe(true);
      expect(context.leaseLost).not.toHaveBeenCalled();
      await held.release();
    });

    it('an extend confirmed after a failed renewal makes it good: the lease may cover a hand-over again', async () => {
      const { context } = double((call) => (call === 1 ? new Error('timeout') : true));
      const held = lease(context, { ttl: 3_000 });
      await advanceTo(1_000);
      await held.extend(3_000);
      await held.release();
      const [releasing] = context.releaseLock.mock.calls[0]!;
      expect(releasing.validUntil).toBe(1_000 + leaseEnd(0, 3_000));
    });
  });
});
