import {
  INVALID_ARGUMENT,
  LOCK_BUSY,
  LOCK_LOST,
  REPLICAS_MISSING,
  STORE_CLOSED,
  STORE_FAILED,
  STORE_REFUSED,
  STORE_IN_TRANSACTION,
  STORE_TIMEOUT,
} from './lock.messages';
import type { LockLostReason } from './lock-lost-reason';

/**
 * A stable code per outcome, the same on every transport: busy, store unavailable, lost, bad
 * argument. `LOCK_ERROR` marks misuse (no module initialised, an undeclared Observable): a bug in
 * the app, not an outcome to answer.
 */
export type LockErrorCode = 'LOCK_BUSY' | 'LOCK_UNAVAILABLE' | 'LOCK_LOST' | 'LOCK_BAD_ARGUMENT' | 'LOCK_ERROR';

/** Base of every error this library throws, so callers can catch them all with one instanceof. */
export class LockError extends Error {
  /** What happened, for machines: stable across versions and transports. */
  readonly code: LockErrorCode = 'LOCK_ERROR';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The lock stayed busy for the whole wait (or wait was 0 and one attempt failed). */
export class LockNotAcquiredError extends LockError {
  override readonly code = 'LOCK_BUSY';

  constructor(
    /** The user's keys (without the prefix). */
    readonly keys: readonly string[],
    readonly waited: number,
  ) {
    super(LOCK_BUSY(keys, waited));
  }
}

export type { LockLostReason };

/** A held lock is no longer ours: its lease ran out, someone else owns it, or Redis was unreachable too long. */
export class LockLostError extends LockError {
  override readonly code = 'LOCK_LOST';

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
  override readonly code = 'LOCK_UNAVAILABLE';

  static timeout(operation: string, ms: number): LockStoreError {
    return new LockStoreError(STORE_TIMEOUT(operation, ms));
  }

  static failed(operation: string, cause: unknown): LockStoreError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new LockStoreError(STORE_FAILED(operation, detail), { cause });
  }

  /** Not sent: the client's last connection attempt was refused (or found no route), so it would only queue. */
  static refused(operation: string, cause: Error): LockStoreError {
    return new LockStoreError(STORE_REFUSED(operation, (cause as NodeJS.ErrnoException).code, cause.message), {
      cause,
    });
  }

  /** A shared client inside a MULTI transaction answered QUEUED: the command did not run. */
  static inTransaction(operation: string): LockStoreError {
    return new LockStoreError(STORE_FAILED(operation, STORE_IN_TRANSACTION()));
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
  override readonly code = 'LOCK_BAD_ARGUMENT';

  constructor(
    /** The argument at fault, e.g. "key", "ttl", "options.wait". */
    readonly argument: string,
    problem: string,
  ) {
    super(INVALID_ARGUMENT(argument, problem));
  }
}
