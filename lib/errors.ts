import {
  INVALID_ARGUMENT,
  LOCK_BUSY,
  LOCK_LOST,
  REPLICAS_MISSING,
  STORE_CLOSED,
  STORE_FAILED,
  STORE_TIMEOUT,
} from './lock.messages';

/** Base of every error this library throws, so callers can catch them all with one instanceof. */
export class LockError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The lock stayed busy for the whole wait (or wait was 0 and one attempt failed). */
export class LockNotAcquiredError extends LockError {
  constructor(
    /** The user's keys (without the prefix). */
    readonly keys: readonly string[],
    readonly waited: number,
  ) {
    super(LOCK_BUSY(keys, waited));
  }
}

/** Why a held lock stopped being ours. */
/**
 * Why a held lock stopped being ours: `expired` (no renewal confirmed before the lease ended),
 * `not-held` (Redis says another owner holds it, or nobody), `unreachable` (Redis could not be
 * reached before the lease ended), `max-hold` (renewal stopped at the lock's maxHold),
 * `shutdown` (the application is closing).
 */
export type LockLostReason = 'expired' | 'not-held' | 'unreachable' | 'max-hold' | 'shutdown';

/** A held lock is no longer ours: its lease ran out, someone else owns it, or Redis was unreachable too long. */
export class LockLostError extends LockError {
  constructor(
    readonly keys: readonly string[],
    readonly reason: LockLostReason,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(LOCK_LOST(keys, detail ?? reason), options);
  }
}

/** The store (Redis) could not be reached, timed out, or answered with an error. */
export class LockStoreError extends LockError {
  static timeout(operation: string, ms: number): LockStoreError {
    return new LockStoreError(STORE_TIMEOUT(operation, ms));
  }

  static failed(operation: string, cause: unknown): LockStoreError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new LockStoreError(STORE_FAILED(operation, detail), { cause });
  }

  static closed(): LockStoreError {
    return new LockStoreError(STORE_CLOSED());
  }

  /** Too few replicas acknowledged a grant within `waitForReplicas.timeout` (it was undone). */
  static replicasMissing(operation: string, acknowledged: number, required: number, ms: number): LockStoreError {
    return new LockStoreError(REPLICAS_MISSING(operation, acknowledged, required, ms));
  }
}

/** Bad input, rejected before anything is sent to Redis. */
export class LockArgumentError extends LockError {
  constructor(
    /** The argument at fault, e.g. "key", "ttl", "options.wait". */
    readonly argument: string,
    problem: string,
  ) {
    super(INVALID_ARGUMENT(argument, problem));
  }
}
