import type { LockLostError, LockLostReason } from '../errors';

/**
 * Where a lease is in its life: one value, written only by the lease's transitions. While held it
 * is in one of five states, each deciding what the lease's one timer wakes it for and why it is
 * lost if its deadline passes first:
 *
 *   confirming --Redis confirms the hand-over--> held
 *   held --renewal due--> renewing --confirmed--> held
 *                                  --failed-----> retrying --retry due--> renewing
 *   held, renewing, retrying --cut short by maxHold--> capped
 *   any held state --deadline, refusal, not ours, shutdown--> lost
 *   any held state --last handle released--> released
 *
 * States without data are shared constants, so moving between them is one field write. @internal
 */
export type LeaseState = HeldState | LostState | ReleasedState;

/** The states of a lease still held; the deadline of each is in the lease's LeaseClock. */
export type HeldState = Held | Confirming | Renewing | Retrying | Capped;

/** Renews at its clock's renewAt (when autoRenew is on); unrenewed, it ends as 'expired'. */
interface Held {
  readonly kind: 'held';
}

/** An optimistic hand-over Redis has not confirmed yet: no renewal until it has. */
interface Confirming {
  readonly kind: 'confirming';
}

/** A renewal in flight: only the deadline is armed meanwhile (Redis may never answer). */
interface Renewing {
  readonly kind: 'renewing';
  /** The failed renewal this one retries, if it does. */
  readonly retrying: Retrying | undefined;
}

/** The last renewal failed: retried at the clock's renewAt; the deadline loses it as 'unreachable'. */
export interface Retrying {
  readonly kind: 'retrying';
  readonly error: unknown;
}

/** The last renewal was cut short by maxHold: no more renewals, the lease ends at maxHold. */
interface Capped {
  readonly kind: 'capped';
}

interface LostState {
  readonly kind: 'lost';
  /** What `signal` aborted with, and what extend() rejects with from now on. */
  readonly error: LockLostError;
}

interface ReleasedState {
  readonly kind: 'released';
}

// States without data: shared, so entering one allocates nothing.
export const HELD: Held = { kind: 'held' };
export const CONFIRMING: Confirming = { kind: 'confirming' };
export const RENEWING: Renewing = { kind: 'renewing', retrying: undefined };
export const CAPPED: Capped = { kind: 'capped' };
export const RELEASED: ReleasedState = { kind: 'released' };

// Queries.

/** Whether a lease in `state` is still ours, as far as this process knows. */
export function isHeld(state: LeaseState): state is HeldState {
  return state.kind !== 'lost' && state.kind !== 'released';
}

/** Whether the timer wakes a lease in `state` for a renewal (else only at its deadline). */
export function renewsOnSchedule(state: LeaseState, autoRenew: boolean): boolean {
  return (state.kind === 'held' && autoRenew) || state.kind === 'retrying';
}

/** Why a lease still in `state` at its deadline is lost. */
export function lostAtDeadline(state: HeldState): LockLostReason {
  if (state.kind === 'held') return 'expired';
  if (state.kind === 'capped') return 'max-hold';
  // A renewal in flight or failed, or a hand-over unconfirmed: Redis did not answer in time.
  return 'unreachable';
}

/** The failed renewal behind `state`, if one is: its error is the cause of a loss at the deadline. */
export function renewalFailure(state: HeldState): Retrying | undefined {
  if (state.kind === 'retrying') return state;
  return state.kind === 'renewing' ? state.retrying : undefined;
}

// Transitions: what the lease enters on each event (the lease does the I/O and writes the result).

/** A renewal was sent (from 'held', or 'retrying' a failed one): the deadline stays armed while it is in flight. */
export function renewalSent(state: HeldState): Renewing {
  return state.kind === 'retrying' ? { kind: 'renewing', retrying: state } : RENEWING;
}

/** The renewal in flight was confirmed: cut short by maxHold (or capped meanwhile), it was the last. */
export function renewalConfirmed(state: HeldState, cutShort: boolean): HeldState {
  return cutShort || state.kind === 'capped' ? CAPPED : HELD;
}

/** The renewal in flight failed: retried shortly, unless the lease was capped meanwhile. */
export function renewalFailed(state: HeldState, error: unknown): HeldState {
  return state.kind === 'capped' ? CAPPED : { kind: 'retrying', error };
}

/**
 * An extend() was confirmed: cut short by maxHold, no more renewals; otherwise a failed renewal
 * is made good, and a renewal in flight or a hand-over Redis has not confirmed is still awaited.
 */
export function extendConfirmed(state: HeldState, cutShort: boolean): HeldState {
  if (cutShort) return CAPPED;
  return state.kind === 'retrying' ? HELD : state;
}

/** Redis confirmed the optimistic hand-over (a lease capped by an extend meanwhile stays capped). */
export function handOverConfirmed(state: HeldState): HeldState {
  return state.kind === 'confirming' ? HELD : state;
}
