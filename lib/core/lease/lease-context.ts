import type { LockLogger } from '../lock-logger';
import type { LockLostError } from '../errors';
import type { LockKind, LockStore } from '../../stores/lock-store.interface';
import type { LeaseTimers } from './lease-timers';
import type { Grant } from '../waiting/grant';
import type { Releasing } from '../waiting/releasing';

export type { Provisional } from '../waiting/grant';
export type { Releasing } from '../waiting/releasing';

/** One acquisition as granted (see Grant), with the request's options. @internal */
export interface LockGrant extends Grant {
  kind: LockKind;
  keys: readonly string[];
  storeKeys: readonly string[];
  token: string;
  ttl: number;
  autoRenew: boolean;
  /** Kept at least this long after acquisition (ms); 0 = deleted on release. */
  minHold: number;
  /** Renewal stops this long after the acquire was sent (ms); Infinity = no cap. */
  maxHold: number;
  /** The lock's low-cardinality name in telemetry. */
  name: string;
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
