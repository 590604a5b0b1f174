import type { LockLostError, LockLostReason } from './errors';

/** What RedisLockModule's `onLockLost` hook receives when a held lock is lost. */
export interface LockLostEvent {
  /** The first of the lock's keys (without the prefix). */
  readonly key: string;
  /** All of the lock's keys. */
  readonly keys: readonly string[];
  readonly reason: LockLostReason;
  /** The fence of the lost acquisition: writes carrying it should now be rejected downstream. */
  readonly fence: number;
  /** The error the lock's signal aborted with. */
  readonly error: LockLostError;
}
