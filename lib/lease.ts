import { LockLostError, type LockLostReason, LockStoreError } from './errors';
import type { LeaseOwner, LockGrant } from './lease-owner';
import { LOST_BECAUSE, RELEASED, RENEWAL_FAILED } from './lock.messages';
import { runOutsideLockScope } from './lock-scope';
import { MAX_RENEWAL_RETRY_INTERVAL, RENEW_AT } from './tuning';
import { reliableLength } from './utils/reliable-length';

type LeaseState = 'held' | 'released' | 'lost';

/**
 * One held lease in the store, shared by the Lock handles of one call chain (the outer one and
 * those re-entered below it), released in the store when the last handle is released. Renews
 * itself about every ttl/3 while held (unless autoRenew is off, and never past maxHold). Its view of the lease runs on a monotonic clock from when the
 * acquire was sent, less a drift allowance: when no renewal is confirmed by then, the lease is
 * lost and `signal` aborts with LockLostError, even if Redis never answers. @internal
 */
export class Lease {
  readonly keys: readonly string[];
  readonly storeKeys: readonly string[];
  readonly token: string;
  readonly fence: number;

  private state: LeaseState = 'held';
  private lostReason: LockLostReason | undefined;
  /** The last renewal was cut short by maxHold: no more renewals, the lease ends at maxHold. */
  private capped = false;
  /** A renewal is in flight: only the deadline is armed meanwhile (Redis may never answer). */
  private renewing = false;
  /** Why the last renewal failed, if it did: the lease is then lost as 'unreachable'. */
  private renewalError: unknown;
  private ttl: number;
  /** Monotonic time by which a renewal must be confirmed, less a drift allowance. */
  private deadline: number;
  /** Monotonic time of the next renewal attempt. */
  private renewAt: number;
  private confirmedSentAt: number;
  private expiresAtWall: number;
  /** Monotonic time at which the reply granting the lease arrived (minHold counts from here). */
  private readonly grantedAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private releasing: Promise<boolean> | undefined;
  /** Lock handles not yet released (the acquisition's and re-entered ones): the last one releases. */
  private handles = 1;
  /** Created on first use: most locks are released without anyone reading `signal`. */
  private controller: AbortController | undefined;

  constructor(
    private readonly grant: LockGrant,
    readonly owner: LeaseOwner,
  ) {
    this.keys = grant.keys;
    this.storeKeys = grant.storeKeys;
    this.token = grant.token;
    this.fence = grant.fence;
    this.ttl = grant.ttl;
    this.deadline = leaseEnd(grant.sentAt, grant.ttl);
    this.renewAt = grant.sentAt + grant.ttl * RENEW_AT;
    this.confirmedSentAt = grant.sentAt;
    this.expiresAtWall = Date.now() - (performance.now() - grant.sentAt) + grant.ttl;
    this.schedule();
  }

  get expiresAt(): number {
    return this.expiresAtWall;
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  get held(): boolean {
    return this.state === 'held';
  }

  /** The lease length renewals use (ms). */
  get currentTtl(): number {
    return this.ttl;
  }

  /** Renews now, to `length` ms (capped at maxHold); the later automatic renewals use it too. */
  async extend(length: number): Promise<void> {
    if (this.state !== 'held') throw this.lostError();
    const sentAt = performance.now();
    const granted = Math.min(length, this.holdLeft(sentAt));
    if (granted < 1) return;
    const stillOurs = await this.owner.store.extend(this.storeKeys, this.token, granted);
    if (this.state !== 'held') throw this.lostError();
    if (!stillOurs) {
      this.lose('not-held');
      throw this.lostError();
    }
    this.ttl = length;
    if (granted < length) this.capped = true;
    this.confirm(sentAt, granted);
  }

  /** One more handle on this lease (a call chain re-entered it). */
  retain(): void {
    this.handles++;
  }

  /**
   * One handle let go. The lease itself is released with the last handle, so work still running
   * under any handle (an inner call the outer one did not await) keeps it held and renewed.
   * Resolves whether the lease was still ours.
   */
  releaseHandle(): Promise<boolean> {
    if (--this.handles > 0) return Promise.resolve(this.held);
    return this.release();
  }

  /**
   * Lets go of the lease: deletes it (or hands it to the next waiter of this process), or, while
   * minHold has not passed, leaves it to run out then. Idempotent; true if it let go of a lease
   * that was still ours.
   */
  release(): Promise<boolean> {
    if (this.releasing) return this.releasing;
    const wasHeld = this.state === 'held';
    // Shutdown aborts the signal first, but the job did run: minHold still keeps other replicas out.
    const keepFor = wasHeld || this.lostReason === 'shutdown' ? this.minHoldLeft() : 0;
    this.settle('released');
    const letGo =
      keepFor > 0
        ? this.owner.store.extend(this.storeKeys, this.token, keepFor)
        : this.owner.releaseLock(this.storeKeys, this.token);
    this.releasing = letGo.then(
      (released) => wasHeld && released,
      (error: unknown) => {
        if (!wasHeld) return false;
        throw error instanceof LockStoreError ? error : LockStoreError.failed('release', error);
      },
    );
    return this.releasing;
  }

  /** Marks the lease lost: stops renewal, aborts `signal`, tells the owner. */
  lose(reason: LockLostReason, cause?: unknown): void {
    if (this.state !== 'held') return;
    this.lostReason = reason;
    this.settle('lost');
    const error = new LockLostError(this.keys, reason, LOST_BECAUSE[reason](cause), { cause });
    (this.controller ??= new AbortController()).abort(error);
    this.owner.leaseLost(this, error);
  }

  /** The error a lost (or released) lease answers extend() with. */
  lostError(): LockLostError {
    const reason = this.controller?.signal.reason;
    return reason instanceof LockLostError
      ? reason
      : new LockLostError(this.keys, 'not-held', RELEASED);
  }

  private minHoldLeft(): number {
    return Math.ceil(this.grant.minHold - (performance.now() - this.grantedAt));
  }

  /** Lease time renewal may still grant under maxHold (ms); Infinity without a cap. */
  private holdLeft(now: number): number {
    return Math.floor(this.grant.sentAt + this.grant.maxHold - now);
  }

  private settle(state: LeaseState): void {
    if (this.state !== 'held') return;
    this.state = state;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.owner.leaseSettled(this);
  }

  /** A renewal of `length` ms sent at `sentAt` succeeded: the lease now runs from then (the latest wins). */
  private confirm(sentAt: number, length: number): void {
    if (sentAt < this.confirmedSentAt) return;
    this.confirmedSentAt = sentAt;
    this.deadline = leaseEnd(sentAt, length);
    this.renewAt = sentAt + length * RENEW_AT;
    this.expiresAtWall = Date.now() - (performance.now() - sentAt) + length;
    this.schedule();
  }

  /** One timer per lease: the next renewal, or the deadline when renewal is off, capped or failing. */
  private schedule(): void {
    if (this.state !== 'held') return;
    clearTimeout(this.timer);
    const renews = this.grant.autoRenew && !this.capped && !this.renewing;
    const wakeAt = renews ? Math.min(this.renewAt, this.deadline) : this.deadline;
    // Rounded up: a timer firing a fraction of a ms early would find the deadline not yet passed.
    const delay = Math.max(0, Math.ceil(wakeAt - performance.now()));
    // Armed outside every lock scope: renewal and loss reports are no part of the acquiring chain.
    this.timer = runOutsideLockScope(() => setTimeout(() => void this.tick(), delay));
    // A held lock must not keep the process alive by itself.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.state !== 'held') return;
    const sentAt = performance.now();
    if (sentAt >= this.deadline) {
      if (this.capped) this.lose('max-hold');
      // A renewal still in flight, or the last one failed: Redis did not answer in time.
      else if (this.renewing || this.renewalError !== undefined) this.lose('unreachable', this.renewalError);
      else this.lose('expired');
      return;
    }
    const length = Math.min(this.ttl, this.holdLeft(sentAt));
    if (this.renewing || !this.grant.autoRenew || length < 1) {
      this.capped ||= this.grant.autoRenew && length < 1;
      this.schedule();
      return;
    }
    this.renewing = true;
    this.schedule(); // the deadline stays armed while the renewal is in flight
    try {
      const stillOurs = await this.owner.store.extend(this.storeKeys, this.token, length).finally(() => {
        this.renewing = false;
      });
      if (this.state !== 'held') return;
      if (!stillOurs) {
        this.lose('not-held');
        return;
      }
      // Cut short by maxHold: this was the last renewal.
      if (length < this.ttl) this.capped = true;
      this.renewalError = undefined;
      this.confirm(sentAt, length);
    } catch (error) {
      if (this.state !== 'held') return;
      this.renewalError = error;
      if (performance.now() >= this.deadline) {
        this.lose('unreachable', error);
        return;
      }
      this.owner.logger.warn(RENEWAL_FAILED(this.keys, (error as Error).message));
      this.renewAt = performance.now() + Math.min(this.ttl / 10, MAX_RENEWAL_RETRY_INTERVAL);
      this.schedule();
    }
  }
}

/** Lease end as this process may rely on it: the length less a clock-drift allowance. */
function leaseEnd(sentAt: number, length: number): number {
  return sentAt + reliableLength(length);
}
