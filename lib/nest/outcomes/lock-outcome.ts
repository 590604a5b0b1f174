import {
  LockArgumentError,
  type LockError,
  LockLostError,
  LockNotAcquiredError,
  LockStoreError,
} from '../../core/errors';
import { LOCK_LOST_ANSWER, LOCK_UNAVAILABLE_ANSWER } from '../../core/lock.messages';

/** A lock error as every transport answers it: one code, one client-safe message, the user's key. */
export interface LockOutcome {
  code: 'LOCK_BUSY' | 'LOCK_UNAVAILABLE' | 'LOCK_LOST' | 'LOCK_BAD_ARGUMENT';
  /** The HTTP status of the outcome (busy 409, unavailable and lost 503, bad argument 400). */
  status: 409 | 503 | 400;
  /** Safe to send: names the user's key, never a Redis key or a Redis error. */
  message: string;
  /** The user's key, or keys when the lock covered several. */
  lock?: string | string[];
  /** The argument at fault (bad argument only). */
  argument?: string;
  /** The lock error behind it (the LockLostError when an AbortError carried it). */
  error: LockError;
}

/**
 * The outcome for a lock error, or for an AbortError caused by a lost lock (what `fetch` or
 * `timers/promises` throw when given `lock.signal`); undefined for anything else, misuse included.
 */
export function lockOutcomeOf(error: unknown): LockOutcome | undefined {
  if (error instanceof LockNotAcquiredError) {
    return { code: error.code, status: 409, message: error.message, lock: lockOf(error.keys), error };
  }
  if (error instanceof LockStoreError) {
    return { code: error.code, status: 503, message: LOCK_UNAVAILABLE_ANSWER(), error };
  }
  if (error instanceof LockArgumentError) {
    return { code: error.code, status: 400, message: error.message, argument: error.argument, error };
  }
  const lost = lostLockOf(error);
  if (lost)
    return { code: lost.code, status: 503, message: LOCK_LOST_ANSWER(lost.keys), lock: lockOf(lost.keys), error: lost };
  return undefined;
}

/** The LockLostError itself, or the one an AbortError carries as its cause. */
function lostLockOf(error: unknown): LockLostError | undefined {
  if (error instanceof LockLostError) return error;
  if (error instanceof Error && error.name === 'AbortError' && error.cause instanceof LockLostError) return error.cause;
  return undefined;
}

/** The outcome's optional fields that are set: answers leave out what is unknown. */
export function outcomeDetail({
  lock,
  argument,
}: Pick<LockOutcome, 'lock' | 'argument'>): Pick<LockOutcome, 'lock' | 'argument'> {
  return { ...(lock !== undefined && { lock }), ...(argument !== undefined && { argument }) };
}

function lockOf(keys: readonly string[]): string | string[] {
  return keys.length === 1 ? (keys[0] as string) : [...keys];
}

/**
 * Not an error class: a matcher for `@Catch()` that answers `instanceof` for exactly the errors
 * that have an outcome. Nest picks a filter by `instanceof`, so everything else still reaches the
 * app's other filters and Nest's own.
 */
export abstract class HasLockOutcome {
  static [Symbol.hasInstance](value: unknown): boolean {
    return lockOutcomeOf(value) !== undefined;
  }
}
