import type { LockLogger } from '../lock-logger';
import type { LockLostError } from '../errors';
import type { LockStore } from '../../stores/lock-store.interface';
import type { LeaseTimers } from './lease-timers';
import type { HandOverRun } from '../waiting/hand-over-run';

/** One acquisition as the store granted it. @internal */
export interface LockGrant {
  keys: readonly string[];
  storeKeys: readonly string[];
  token: string;
  fence: number;
  ttl: number;
  autoRenew: boolean;
  /** Kept at least this long after acquisition (ms); 0 = deleted on release. */
  minHold: number;
  /** Renewal stops this long after the acquire was sent (ms); Infinity = no cap. */
  maxHold: number;
  /** performance.now() when the acquire was sent: the lease is counted from then, not from the reply. */
  sentAt: number;
  /** The lock's low-cardinality name in telemetry. */
  name: string;
  /** An optimistic hand-over: running before Redis confirmed it, inside the giver's lease. */
  provisional?: Provisional;
  /** Set when the lock was handed over inside this process: the run of hand-overs it continues. */
  handOverRun?: HandOverRun;
}

/** A grant the receiver may use before Redis confirms it. @internal */
export interface Provisional {
  /** Monotonic time until which the giver's lease covers it; it is lost then if not confirmed. */
  readonly until: number;
  /** Resolves whether Redis confirmed the hand-over; rejects when it could not be reached. */
  readonly confirmed: Promise<boolean>;
}

/** What a releasing lease tells the wait queues: enough to hand its lock over at once. @internal */
export interface Releasing {
  readonly storeKeys: readonly string[];
  readonly token: string;
  readonly fence: number;
  /**
   * Monotonic time until which this process may rely on the lease to cover an optimistic
   * hand-over (0: it may not: not held, or its renewal is overdue).
   */
  readonly validUntil: number;
  /** The run of in-process hand-overs this lease continues (none: it was taken through Redis). */
  readonly handOverRun: HandOverRun | undefined;
}

/**
 * What a lease needs from the Locker that took it: one object per Locker, shared by all of its
 * leases, so it also tells which Locker a lease belongs to (reentrancy re-enters only its own).
 * Generic in the lease type `L` (the Lease class) so that this file does not import lease.ts.
 * @internal
 */
export interface LeaseContext<L> {
  /** Where leases are renewed, and minHold's remainder is kept on release. */
  readonly store: LockStore;
  /** Where renewal failures are logged (as warnings: the lease is kept until its deadline). */
  readonly logger: LockLogger;
  /** Wakes the leases for renewal and at their deadline (one timer for all of them). */
  readonly timers: LeaseTimers;
  /** Releases the keys (or hands them to the next waiter of this process); true if we owned them. */
  releaseLock(releasing: Releasing): Promise<boolean>;
  /** Called once when the lease stops being held (released or lost): it leaves the held set. */
  leaseSettled(lease: L): void;
  /** Called once when the lease is lost, after its signal aborted: telemetry, log, onLockLost. */
  leaseLost(lease: L, error: LockLostError): void;
}
