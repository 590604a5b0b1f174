import type { CancelSignal } from '../utils/cancellation';
import type { Won } from './acquisition';

/** Why a sleeping waiter woke up. */
export type WakeReason =
  /** A release of one of its keys was announced: worth an attempt. */
  | 'released'
  /** It became the head of its queue after a waiter that gave up: the lock may be free. */
  | 'head'
  /** It became the head after a waiter that took the lock: wait for that one's release. */
  | 'head-behind-holder'
  /** The previous holder handed the lock over: `fence` is set. */
  | 'handed-over'
  | 'timeout'
  | 'aborted'
  /** The service is shutting down. */
  | 'closed';

/** One caller of this process waiting for a lock, as its queue sees it. */
export class Waiter {
  /** Set while an attempt or a hand-over for this waiter is in flight: no second one starts. */
  busy = false;
  /** Whether it still wants the lock (false once it gave up or got it). */
  active = true;
  /** A lock handed over to it: its fence, when the hand-over was sent, and if still unconfirmed. */
  handedOver: Won | undefined;
  /**
   * Set when a release went through Redis so that waiters of other processes get their turn: this
   * head lets their attempts, woken by the same message, go first (see Acquisition.sleep).
   */
  yieldsNextRelease = false;
  private wakeUp: ((reason: WakeReason) => void) | undefined;
  /**
   * A release heard while awake (its own attempt in flight): that attempt's busy answer may have
   * been computed before the release, so the next sleep returns at once to attempt again.
   */
  private missedRelease = false;

  constructor(
    readonly token: string,
    readonly ttl: number,
  ) {}

  /** Sleeps until woken, `ms` pass, or `signal` aborts; never leaves a timer or listener behind. */
  sleep(ms: number, signal?: CancelSignal): Promise<WakeReason> {
    if (signal?.aborted) return Promise.resolve('aborted');
    if (this.handedOver) return Promise.resolve('handed-over');
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
    else if (reason === 'released') this.missedRelease = true;
  }

  /** An attempt is being sent: releases heard until now are covered by its answer. */
  attempting(): void {
    this.missedRelease = false;
    this.yieldsNextRelease = false;
  }

  /** Takes a handed-over lock; false if the waiter no longer wants it (the caller must release it). */
  receive(grant: Won): boolean {
    if (!this.active) return false;
    this.active = false; // it holds the lock now: no second hand-over
    this.handedOver = grant;
    this.wake('handed-over');
    return true;
  }
}
