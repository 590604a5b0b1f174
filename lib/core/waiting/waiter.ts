import type { LeaseRequest } from '../../stores/lock-store.interface';
import { freshTokenLike } from '../holder/holder-id';
import type { CancelSignal } from '../utils/cancellation';
import type { Grant } from './grant';

/** Why a sleeping waiter woke up. */
export type WakeReason =
  /** A release of one of its keys was announced: worth an attempt. */
  | 'released'
  /** Its queue now hears releases: an attempt closes the gap before it did. */
  | 'listening'
  /** It became the head of its queue after a waiter that gave up: the lock may be free. */
  | 'head'
  /** It became the head after a waiter that took the lock: wait for that one's release. */
  | 'head-behind-holder'
  /** The previous holder handed the lock over: `handedOver` is set. */
  | 'handed-over'
  | 'timeout'
  | 'aborted'
  /** The service is shutting down. */
  | 'closed';

/**
 * One caller of this process waiting for a lock, as its queue sees it. Only this class writes
 * its state; the acquisition and the queues say what happened through its methods.
 */
export class Waiter {
  private inFlight = false;
  private wanting = true;
  private grant: Grant | undefined;
  private yields = false;
  private wakeUp: ((reason: WakeReason) => void) | undefined;
  /**
   * A release heard (or listening begun) while awake, its own attempt in flight: that attempt's
   * busy answer may have been computed before the release, so the next sleep returns at once to
   * attempt again.
   */
  private missedRelease = false;

  /** `request`: what it asks the store for (its kind, store keys, token and ttl). */
  constructor(private asking: LeaseRequest) {}

  /** What its attempts and hand-overs ask for; the token changes when retired (see retireToken). */
  get request(): LeaseRequest {
    return this.asking;
  }

  get token(): string {
    return this.asking.token;
  }

  /**
   * A grant call for its token failed but may still run (a time-out, a lost connection), and so
   * may the undo sent after it: a Cluster retries each on its own timer, in no fixed order, so
   * that undo could delete a later grant to the same token. Later grants go to a fresh one.
   * Called only while no attempt or hand-over for the waiter is in flight.
   */
  retireToken(): void {
    const { kind, keys, ttl } = this.asking;
    this.asking = { kind, keys, token: freshTokenLike(this.asking.token), ttl };
  }

  /** An attempt or a hand-over for this waiter is in flight: no second one starts. */
  get busy(): boolean {
    return this.inFlight;
  }

  /** Whether it still wants the lock (false once it gave up or got it). */
  get active(): boolean {
    return this.wanting;
  }

  /** A lock handed over to it: its fence, when the hand-over was sent, and if still unconfirmed. */
  get handedOver(): Grant | undefined {
    return this.grant;
  }

  /**
   * Set when a release went through the store so that waiters of other processes get their turn:
   * this head lets their attempts, woken by the same message, go first (see Acquisition).
   */
  get yieldsNextRelease(): boolean {
    return this.yields;
  }

  /** Sleeps until woken, `ms` pass, or `signal` aborts; never leaves a timer or listener behind. */
  sleep(ms: number, signal?: CancelSignal): Promise<WakeReason> {
    if (signal?.aborted) return Promise.resolve('aborted');
    if (this.grant) return Promise.resolve('handed-over');
    if (this.missedRelease) {
      this.missedRelease = false;
      return Promise.resolve('released');
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => done('timeout'), Math.max(0, ms));
      const onAbort = () => done('aborted');
      const done = (reason: WakeReason) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.wakeUp = undefined;
        resolve(reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wakeUp = done;
    });
  }

  wake(reason: WakeReason): void {
    if (this.wakeUp) this.wakeUp(reason);
    else if (reason === 'released' || reason === 'listening') this.missedRelease = true;
  }

  /** An attempt is being sent: releases heard until now are covered by its answer. */
  attempting(): void {
    this.inFlight = true;
    this.missedRelease = false;
    this.yields = false;
  }

  /** A hand-over to it is being sent; it receives the lock once the store confirmed. */
  handOverSent(): void {
    this.inFlight = true;
  }

  /** The attempt or hand-over in flight answered. */
  answered(): void {
    this.inFlight = false;
  }

  /** See yieldsNextRelease: set by a capped release, cleared once yielded (or by an attempt). */
  yieldNextRelease(yields: boolean): void {
    this.yields = yields;
  }

  /** It left its queue: no lock is handed to it any more. */
  left(): void {
    this.wanting = false;
  }

  /** Takes a handed-over lock; false if the waiter no longer wants it (the caller must release it). */
  receive(grant: Grant): boolean {
    if (!this.wanting) return false;
    this.wanting = false; // it holds the lock now: no second hand-over
    this.grant = grant;
    this.wake('handed-over');
    return true;
  }
}
