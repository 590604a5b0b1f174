import { LockNotAcquiredError, LockStoreError } from '../errors';
import type { AcquireAttempt, LeaseRequest, LockStore } from '../../stores/lock-store.interface';
import type { CancelSignal } from '../utils/cancellation';
import { YIELD_TO_OTHER_PROCESSES } from '../tuning';
import { retryDelay } from '../utils/retry-delay';
import type { Grant } from './grant';
import type { WaitQueues } from './wait-queues';
import { Waiter, type WakeReason } from './waiter';

/** What an acquisition needs from the service it runs for. */
export interface AcquisitionHost {
  readonly store: LockStore;
  readonly waitQueues: WaitQueues;
  /** Throws LockStoreError once the service no longer hands out locks. */
  assertOpen(): void;
}

/**
 * One request for a lock: what to ask the store for (the lock's kind, its store keys, the token
 * and the lease's ttl: passed to the store as it is), and how long to wait.
 */
export interface AcquisitionRequest extends LeaseRequest {
  /** The user's keys, for errors. */
  readonly userKeys: readonly string[];
  readonly wait: number;
  readonly signal?: CancelSignal;
}

/**
 * One caller's way to a lock, step by step: the first attempt (unless callers of this process
 * already wait for these keys: it queues behind them), then waiting in the queue, where only the
 * head attempts, woken by release notifications or by a hand-over from a holder of this process,
 * with a backoff poll as the fallback for expired leases and lost messages. The first attempt
 * reports a store failure at once; a caller already waiting retries through it until its wait
 * ends, then reports it. Resolves with the won grant once the waiter has left its queue, so a
 * grant the caller turns down (aborted meanwhile) is released to whoever is next.
 */
export class Acquisition {
  private readonly started = performance.now();
  /** The blocking lease's time left, from the last busy answer (0: unknown). */
  private remaining = 0;
  /** Attempts made as the head of the queue (the poll backs off with them). */
  private attempts = 0;
  /** A waiter outlasts a store outage: its last failed attempt, reported if the wait ends on it. */
  private storeError: LockStoreError | undefined;

  constructor(
    private readonly host: AcquisitionHost,
    private readonly request: AcquisitionRequest,
  ) {}

  run(): Promise<Grant> {
    const { request } = this;
    if (request.wait !== 0 && this.host.waitQueues.has(request.keys)) return this.waitInQueue();
    // Not async: the uncontended path is one store call and one continuation. Sent as the
    // acquisition starts: one clock read for both.
    const sentAt = this.started;
    return this.host.store.tryAcquire(request).then((result) => {
      const won = this.answered(request, result, sentAt);
      if (won) return won;
      if (this.elapsed() >= request.wait) throw this.notAcquired();
      return this.waitInQueue();
    });
  }

  /** One try at the store: the grant, or null when busy (remembering for how long). */
  private attempt(request: LeaseRequest): Promise<Grant | null> {
    const sentAt = performance.now();
    return this.host.store.tryAcquire(request).then((result) => this.answered(request, result, sentAt));
  }

  private answered(request: LeaseRequest, result: AcquireAttempt, sentAt: number): Grant | null {
    if (result.fence !== null) return { token: request.token, fence: result.fence, sentAt };
    this.remaining = result.remaining;
    return null;
  }

  private async waitInQueue(): Promise<Grant> {
    const { keys } = this.request;
    const queues = this.host.waitQueues;
    const waiter = new Waiter(this.request);
    // Queued at once; its subscription may take up to storeTimeout to be answered, and meanwhile
    // the waiter keeps its wait, its signal and the poll. Once listening, it is woken to attempt:
    // that closes the gap in which a release could have gone unheard.
    let listenFailure: { error: unknown } | undefined;
    queues.join(keys, waiter).then(
      () => waiter.wake('listening'),
      (error: unknown) => {
        listenFailure = { error };
        waiter.wake('listening');
      },
    );
    let won: Grant | null = null;
    try {
      // The attempt just answered busy: the next one comes once listening, or at the poll.
      let tryNow = false;
      for (;;) {
        if (listenFailure) throw listenFailure.error;
        if (waiter.handedOver) return (won = waiter.handedOver);
        const left = this.request.wait - this.elapsed();
        if (left <= 0) throw this.storeError ?? this.notAcquired();
        const head = queues.isHead(keys, waiter);
        if (head && tryNow && !waiter.busy) {
          won = await this.attemptAsHead(waiter);
          if (won) return won;
        }
        // Behind a waiter of this process that just took the lock: nothing to try until it lets go.
        tryNow = (await this.sleepUntilWoken(waiter, head, left)) !== 'head-behind-holder';
      }
    } finally {
      // Before the caller sees the grant: releasing it must reach the next waiter, never this one.
      queues.leave(keys, waiter, won !== null);
    }
  }

  private async attemptAsHead(waiter: Waiter): Promise<Grant | null> {
    this.host.assertOpen();
    waiter.attempting();
    try {
      const won = await this.attempt(waiter.request);
      this.storeError = undefined;
      return won;
    } catch (error) {
      if (!(error instanceof LockStoreError)) throw error;
      waiter.retireToken(); // the call may still run (see Waiter.retireToken)
      this.host.assertOpen();
      this.storeError = error;
      this.remaining = 0;
      return null;
    } finally {
      waiter.answered();
      this.attempts++;
    }
  }

  /**
   * Sleeps until woken or the next poll: the head polls as a fallback (never later than the
   * blocking lease ends), the rest wait their turn. Throws when the signal aborted or the service
   * closed meanwhile.
   */
  private async sleepUntilWoken(waiter: Waiter, head: boolean, left: number): Promise<WakeReason> {
    // Shutdown may have woken the waiters while this one was attempting: it must not sleep on.
    this.host.assertOpen();
    const leaseEnds = this.remaining > 0 ? this.remaining + 1 : Infinity;
    const poll = head ? Math.min(retryDelay(this.attempts, left), leaseEnds) : left;
    const { signal } = this.request;
    let reason = await waiter.sleep(Math.min(poll, left), signal);
    if (reason === 'released' && waiter.yieldsNextRelease) {
      // This process released through Redis to give waiters elsewhere their turn: their attempts,
      // woken by the same message, go first, or this head would often win the race again.
      waiter.yieldNextRelease(false);
      reason = await waiter.sleep(Math.min(YIELD_TO_OTHER_PROCESSES, left), signal);
    }
    if (reason === 'aborted') signal!.throwIfAborted();
    if (reason === 'closed') this.host.assertOpen();
    return reason;
  }

  private elapsed(): number {
    return performance.now() - this.started;
  }

  private notAcquired(): LockNotAcquiredError {
    return new LockNotAcquiredError(this.request.userKeys, Math.round(this.elapsed()));
  }
}
