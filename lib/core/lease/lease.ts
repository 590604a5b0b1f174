import type { LockKind } from '../../stores/lock-store.interface';
import { LockLostError, type LockLostReason, LockStoreError } from '../errors';
import { LeaseClock } from './lease-clock';
import type { LeaseContext, LockGrant } from './lease-context';
import * as LeaseStates from './lease-state';
import { type LeaseState, isHeld } from './lease-state';
import { letGo } from './let-go';
import { LOST_BECAUSE, RELEASED, RENEWAL_FAILED } from '../lock.messages';
import type { TimedEntry } from './lease-timers';
import type { Listed } from '../utils/insertion-list';
import { MAX_RENEWAL_RETRY_INTERVAL } from '../tuning';

/**
 * One held lease in the store, shared by the Lock handles of one call chain (the outer one and
 * those re-entered below it), released in the store when the last handle is released. Renews
 * itself about every ttl/3 while held (unless autoRenew is off, and never past maxHold). Its view
 * of the lease (LeaseClock) runs on a monotonic clock from when the acquire was sent, less a drift
 * allowance: when no renewal is confirmed by then, the lease is lost and `signal` aborts with
 * LockLostError, even if Redis never answers. Where it is in that life is one LeaseState, written
 * only by `enter`. @internal
 */
export class Lease implements TimedEntry, Listed<Lease> {
  readonly keys: readonly string[];
  readonly storeKeys: readonly string[];
  readonly token: string;
  readonly fence: number;
  /** What kind of lock it is (a mutex, a permit, a reader). */
  readonly kind: LockKind;
  /** The lock's name in telemetry (never its token). */
  readonly name: string;

  private state: LeaseState;
  private ttl: number;
  private readonly clock: LeaseClock;
  /** Where the context's LeaseTimers (see TimedEntry) and the service's HeldLeases (see InsertionList) keep it. */
  wakeAt = 0;
  timerSlot = -1;
  listPrev: Lease | undefined = undefined;
  listNext: Lease | undefined = undefined;
  private releasing: Promise<boolean> | undefined;
  /** Lock handles not yet released (the acquisition's and re-entered ones): the last one releases. */
  private handles = 1;
  /** Created on first use: most locks are released without anyone reading `signal`. */
  private controller: AbortController | undefined;

  constructor(
    private readonly grant: LockGrant,
    readonly context: LeaseContext<Lease>,
  ) {
    this.keys = grant.keys;
    this.storeKeys = grant.storeKeys;
    this.token = grant.token;
    this.fence = grant.fence;
    this.kind = grant.kind;
    this.name = grant.name;
    this.ttl = grant.ttl;
    this.clock = new LeaseClock(grant);
    this.state = grant.provisional ? LeaseStates.CONFIRMING : LeaseStates.HELD;
    // An optimistic hand-over runs inside the giver's lease until Redis confirms it.
    grant.provisional?.confirmed.then(
      (stands) => this.handOverAnswered(stands, undefined),
      (error: unknown) => this.handOverAnswered(false, error ?? 'no answer'),
    );
    this.schedule();
  }

  get expiresAt(): number {
    return this.clock.expiresAt;
  }
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }
  get held(): boolean {
    return isHeld(this.state);
  }

  /** The lease length renewals use (ms). */
  get currentTtl(): number {
    return this.ttl;
  }

  /** Renews now, to `length` ms (capped at maxHold); the later automatic renewals use it too. */
  async extend(length: number): Promise<void> {
    if (!isHeld(this.state)) throw this.lostError();
    const sentAt = performance.now();
    const granted = Math.min(length, this.clock.holdLeft(sentAt));
    if (granted < 1) return;
    const stillOurs = await this.context.store.extend({
      kind: this.grant.kind,
      keys: this.storeKeys,
      token: this.token,
      ttl: granted,
    });
    const state = this.state;
    if (!isHeld(state)) throw this.lostError();
    if (!stillOurs) {
      this.lose('not-held');
      throw this.lostError();
    }
    this.ttl = length;
    this.clock.confirm(sentAt, granted);
    this.enter(LeaseStates.extendConfirmed(state, granted < length));
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
    const state = this.state;
    const wasHeld = isHeld(state);
    // Shutdown aborts the signal first, but the job did run: minHold still keeps other replicas out.
    const keepFor =
      wasHeld || (state.kind === 'lost' && state.error.reason === 'shutdown') ? this.clock.minHoldLeft() : 0;
    let validUntil = 0;
    if (wasHeld) {
      const renews = this.grant.autoRenew && state.kind !== 'capped';
      validUntil = this.clock.coverUntil(renews, LeaseStates.renewalFailure(state) !== undefined);
      this.enter(LeaseStates.RELEASED);
    }
    this.releasing = letGo(this.context, this.grant, keepFor, validUntil).then(
      (released) => wasHeld && released,
      (error: unknown) => {
        if (!wasHeld) return false;
        throw error instanceof LockStoreError ? error : LockStoreError.failed('release', error);
      },
    );
    return this.releasing;
  }

  /** Marks the lease lost: stops renewal, aborts `signal`, tells the context. */
  lose(reason: LockLostReason, cause?: unknown): void {
    if (!isHeld(this.state)) return;
    const error = new LockLostError(this.keys, reason, LOST_BECAUSE[reason](cause), { cause });
    this.enter({ kind: 'lost', error });
    (this.controller ??= new AbortController()).abort(error);
    this.context.leaseLost(this, error);
  }

  /** The error a lost (or released) lease answers extend() with. */
  lostError(): LockLostError {
    if (this.state.kind === 'lost') return this.state.error;
    return new LockLostError(this.keys, 'not-held', RELEASED);
  }

  /** @internal Called by LeaseTimers at the wake time. */
  onTimer(): void {
    const state = this.state;
    if (!isHeld(state)) return;
    const now = performance.now();
    const { lostAtDeadline, renewalFailure } = LeaseStates;
    if (now >= this.clock.deadline) this.lose(lostAtDeadline(state), renewalFailure(state)?.error);
    else if (LeaseStates.renewsOnSchedule(state, this.grant.autoRenew)) void this.renew(state, now);
    else this.schedule();
  }

  /**
   * The only writer of `state` (after the constructor). A held state re-arms the timer for what it
   * waits for; leaving the held states takes the lease off the timers and tells the context, once:
   * callers enter 'lost' and 'released' only from a held state.
   */
  private enter(state: LeaseState): void {
    this.state = state;
    if (isHeld(state)) return this.schedule();
    this.context.timers.cancel(this);
    this.context.leaseSettled(this);
  }

  /** One wake-up per lease (in the context's shared LeaseTimers): the next renewal while one is due, else the deadline. */
  private schedule(): void {
    const { clock } = this;
    const renews = LeaseStates.renewsOnSchedule(this.state, this.grant.autoRenew);
    this.context.timers.schedule(this, renews ? Math.min(clock.renewAt, clock.deadline) : clock.deadline);
  }

  /** Renews for the lease length, or what maxHold leaves of it (none left: capped). */
  private async renew(state: LeaseStates.HeldState, sentAt: number): Promise<void> {
    const length = Math.min(this.ttl, this.clock.holdLeft(sentAt));
    if (length < 1) {
      this.enter(LeaseStates.CAPPED);
      return;
    }
    this.enter(LeaseStates.renewalSent(state));
    const request = { kind: this.kind, keys: this.storeKeys, token: this.token, ttl: length };
    let stillOurs: boolean;
    try {
      stillOurs = await this.context.store.extend(request);
    } catch (error) {
      this.renewalFailed(error);
      return;
    }
    this.renewed(sentAt, length, stillOurs);
  }

  /** A renewal of `length` ms sent at `sentAt` was answered. */
  private renewed(sentAt: number, length: number, stillOurs: boolean): void {
    const state = this.state;
    if (!isHeld(state)) return;
    if (!stillOurs) {
      this.lose('not-held');
      return;
    }
    this.clock.confirm(sentAt, length);
    this.enter(LeaseStates.renewalConfirmed(state, length < this.ttl));
  }

  /** A renewal failed: retried shortly, unless the deadline has passed meanwhile. */
  private renewalFailed(error: unknown): void {
    const state = this.state;
    if (!isHeld(state)) return;
    if (performance.now() >= this.clock.deadline) return this.lose('unreachable', error);
    this.context.logger.warn(RENEWAL_FAILED(this.keys, (error as Error).message));
    this.clock.renewAt = performance.now() + Math.min(this.ttl / 10, MAX_RENEWAL_RETRY_INTERVAL);
    this.enter(LeaseStates.renewalFailed(state, error));
  }

  /**
   * Redis answered the optimistic hand-over this lease runs on: confirmed, the lease counts from
   * the hand-over's send; refused, it is lost at once (unanswered by the giver's deadline, the
   * timer loses it then, as 'unreachable').
   */
  private handOverAnswered(stands: boolean, error: unknown): void {
    const state = this.state;
    if (!isHeld(state)) return;
    if (!stands) {
      this.lose(error === undefined ? 'not-held' : 'unreachable', error);
      return;
    }
    this.clock.confirm(this.grant.sentAt, this.grant.ttl);
    this.enter(LeaseStates.handOverConfirmed(state));
  }
}
