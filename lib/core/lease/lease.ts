import { LockLostError, type LockLostReason, LockStoreError } from '../errors';
import { LeaseClock } from './lease-clock';
import type { LeaseOwner, LockGrant, Provisional } from './lease-context';
import { LOST_BECAUSE, RELEASED, RENEWAL_FAILED } from '../lock.messages';
import type { TimedEntry } from './lease-timers';
import { MAX_RENEWAL_RETRY_INTERVAL } from '../tuning';

type LeaseState = 'held' | 'released' | 'lost';

/**
 * One held lease in the store, shared by the Lock handles of one call chain (the outer one and
 * those re-entered below it), released in the store when the last handle is released. Renews
 * itself about every ttl/3 while held (unless autoRenew is off, and never past maxHold). Its view
 * of the lease (LeaseClock) runs on a monotonic clock from when the acquire was sent, less a drift
 * allowance: when no renewal is confirmed by then, the lease is lost and `signal` aborts with
 * LockLostError, even if Redis never answers. @internal
 */
export class Lease implements TimedEntry {
  readonly keys: readonly string[];
  readonly storeKeys: readonly string[];
  readonly token: string;
  readonly fence: number;
  /** The lock's name in telemetry (never its token). */
  readonly name: string;

  private state: LeaseState = 'held';
  private lostReason: LockLostReason | undefined;
  /** The last renewal was cut short by maxHold: no more renewals, the lease ends at maxHold. */
  private capped = false;
  /** A renewal is in flight: only the deadline is armed meanwhile (Redis may never answer). */
  private renewing = false;
  /** Why the last renewal failed, if it did: the lease is then lost as 'unreachable'. */
  private renewalError: unknown;
  /** An optimistic hand-over Redis has not confirmed yet: no renewal until it has. */
  private confirming = false;
  private ttl: number;
  private readonly clock: LeaseClock;
  /** Monotonic time at which the reply granting the lease arrived (minHold counts from here). */
  private readonly grantedAt = performance.now();
  /** Where the owner's LeaseTimers keep this lease (see TimedEntry). */
  wakeAt = 0;
  timerSlot = -1;
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
    this.name = grant.name;
    this.ttl = grant.ttl;
    this.clock = new LeaseClock(grant.sentAt, grant.ttl, grant.provisional?.until);
    if (grant.provisional) this.awaitConfirmation(grant.provisional);
    this.schedule();
  }

  get expiresAt(): number {
    return this.clock.expiresAt;
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
    const stillOurs = await this.owner.store.extend({ kind: this.grant.kind, keys: this.storeKeys, token: this.token, ttl: granted });
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
    const { storeKeys, token, fence, grant } = this;
    const validUntil = wasHeld ? this.clock.coverUntil(grant.autoRenew && !this.capped, this.renewalError !== undefined) : 0;
    const letGo =
      keepFor > 0
        ? this.owner.store.extend({ kind: grant.kind, keys: storeKeys, token, ttl: keepFor })
        : this.owner.releaseLock({ kind: grant.kind, keys: storeKeys, token, fence, validUntil, handOverRun: grant.handOverRun });
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
    return reason instanceof LockLostError ? reason : new LockLostError(this.keys, 'not-held', RELEASED);
  }

  /**
   * An optimistic hand-over runs inside the giver's lease until Redis confirms it: then the lease
   * counts from the hand-over's send; refused, it is lost at once; unanswered by the giver's
   * deadline, it is lost then ('unreachable').
   */
  private awaitConfirmation({ confirmed }: Provisional): void {
    this.confirming = true;
    const settled = (stands: boolean, error?: unknown) => {
      this.confirming = false;
      if (this.state !== 'held') return;
      if (stands) this.confirm(this.grant.sentAt, this.grant.ttl);
      else this.lose(error === undefined ? 'not-held' : 'unreachable', error);
    };
    confirmed.then((stands) => settled(stands), (error: unknown) => settled(false, error ?? 'no answer'));
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
    this.owner.timers.cancel(this);
    this.owner.leaseSettled(this);
  }

  /** A renewal of `length` ms sent at `sentAt` succeeded: the lease now runs from then (the latest wins). */
  private confirm(sentAt: number, length: number): void {
    if (this.clock.confirm(sentAt, length)) this.schedule();
  }

  /** One wake-up per lease (in the owner's shared LeaseTimers): the next renewal, or the deadline when renewal is off, capped or failing. */
  private schedule(): void {
    if (this.state !== 'held') return;
    const renews = this.grant.autoRenew && !this.capped && !this.renewing && !this.confirming;
    this.owner.timers.schedule(this, renews ? Math.min(this.clock.renewAt, this.clock.deadline) : this.clock.deadline);
  }

  /** @internal Called by LeaseTimers at the wake time. */
  onTimer(): void {
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.state !== 'held') return;
    const sentAt = performance.now();
    if (sentAt >= this.clock.deadline) {
      if (this.capped) this.lose('max-hold');
      // A renewal still in flight, or the last one failed: Redis did not answer in time.
      else if (this.renewing || this.confirming || this.renewalError !== undefined) {
        this.lose('unreachable', this.renewalError);
      }
      else this.lose('expired');
      return;
    }
    const length = Math.min(this.ttl, this.holdLeft(sentAt));
    if (this.renewing || this.confirming || !this.grant.autoRenew || length < 1) {
      this.capped ||= this.grant.autoRenew && length < 1;
      this.schedule();
      return;
    }
    this.renewing = true;
    this.schedule(); // the deadline stays armed while the renewal is in flight
    try {
      const request = { kind: this.grant.kind, keys: this.storeKeys, token: this.token, ttl: length };
      const stillOurs = await this.owner.store.extend(request).finally(() => {
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
      if (performance.now() >= this.clock.deadline) {
        this.lose('unreachable', error);
        return;
      }
      this.owner.logger.warn(RENEWAL_FAILED(this.keys, (error as Error).message));
      this.clock.renewAt = performance.now() + Math.min(this.ttl / 10, MAX_RENEWAL_RETRY_INTERVAL);
      this.schedule();
    }
  }
}
