import type { LockGrant } from './lease-context';
import { OPTIMISTIC_HAND_OVER_MARGIN, RENEW_AT } from '../tuning';
import { reliableLength } from '../utils/reliable-length';

/**
 * A lease's times on the monotonic clock, counted from when the request that granted or renewed it
 * was sent (not from the reply): the deadline this process may rely on (less a drift allowance),
 * when to renew next, and what minHold and maxHold leave. @internal
 */
export class LeaseClock {
  /** Monotonic time by which a renewal must be confirmed. */
  deadline: number;
  /** Monotonic time of the next renewal attempt. */
  renewAt: number;
  private confirmedSentAt: number;
  /** When the lease ends if not renewed, on the monotonic clock. */
  private endsAt: number;
  /** Wall clock minus monotonic clock, as of the grant or the last confirmation (see expiresAt). */
  private wallOffset: number;
  /** Monotonic time at which the reply granting the lease arrived (minHold counts from here). */
  private readonly grantedAt = performance.now();
  /** Kept at least this long after grantedAt (ms). */
  private readonly minHold: number;
  /** Renewal stops then (monotonic ms; Infinity without a cap). */
  private readonly maxHoldEnd: number;

  constructor({ sentAt, ttl: length, minHold, maxHold, provisional }: LockGrant) {
    // An unconfirmed hand-over is bound by an earlier end: the giver's deadline.
    const until = provisional ? provisional.until : Infinity;
    this.minHold = minHold;
    this.maxHoldEnd = sentAt + maxHold;
    this.confirmedSentAt = sentAt;
    this.deadline = Math.min(leaseEnd(sentAt, length), until);
    this.renewAt = sentAt + length * RENEW_AT;
    // An unconfirmed hand-over lives under the giver's deadline (`until`): it reports that end.
    this.endsAt = Math.min(sentAt + length, until);
    this.wallOffset = Date.now() - this.grantedAt;
  }

  /** When the lease ends if not renewed (epoch ms, this process' clock). */
  get expiresAt(): number {
    // As of the grant (or renewal): a wall clock stepped since does not move it.
    return this.endsAt + this.wallOffset;
  }

  /** Time left before minHold has passed (ms, rounded up; 0 or less once it has). */
  minHoldLeft(): number {
    return Math.ceil(this.minHold - (performance.now() - this.grantedAt));
  }

  /** Lease time renewal may still grant under maxHold at `now` (ms); Infinity without a cap. */
  holdLeft(now: number): number {
    return Math.floor(this.maxHoldEnd - now);
  }

  /**
   * Until when the lease may cover an optimistic hand-over (0: it may not). Not once its renewal
   * is overdue (`renews` and due for longer than the margin, or the last one `failed`): Redis may
   * have lost the lease (a restart, a failover) while the deadline still runs.
   */
  coverUntil(renews: boolean, failed: boolean): number {
    const overdue = failed || (renews && performance.now() > this.renewAt + OPTIMISTIC_HAND_OVER_MARGIN);
    return overdue ? 0 : this.deadline;
  }

  /** A renewal of `length` ms sent at `sentAt` succeeded: false if a later one was confirmed already. */
  confirm(sentAt: number, length: number): boolean {
    if (sentAt < this.confirmedSentAt) return false;
    this.confirmedSentAt = sentAt;
    this.deadline = leaseEnd(sentAt, length);
    this.renewAt = sentAt + length * RENEW_AT;
    this.endsAt = sentAt + length;
    this.wallOffset = Date.now() - performance.now();
    return true;
  }
}

/** Lease end as this process may rely on it: the length less a clock-drift allowance. */
function leaseEnd(sentAt: number, length: number): number {
  return sentAt + reliableLength(length);
}
