import type { HandOverRun } from './hand-over-run';

/**
 * A lock an acquisition won: by its own attempt at the store, or handed over by a holder of this
 * process. The lease built from it adds the request's options (see LockGrant).
 */
export interface Grant {
  /** The token the store granted the lock to (a waiter's may have changed, see Waiter.retireToken). */
  readonly token: string;
  readonly fence: number;
  /** performance.now() when the winning request was sent: the lease is counted from then. */
  readonly sentAt: number;
  /** Handed over optimistically: running before the store confirmed it (see HandOverPolicy). */
  readonly provisional?: Provisional;
  /** Handed over inside this process: the run of hand-overs it continues. */
  readonly handOverRun?: HandOverRun;
}

/** A grant the receiver may use before the store confirms it. @internal */
export interface Provisional {
  /** Monotonic time until which the giver's lease covers it; it is lost then if not confirmed. */
  readonly until: number;
  /** Resolves whether the store confirmed the hand-over; rejects when it could not be reached. */
  readonly confirmed: Promise<boolean>;
}
