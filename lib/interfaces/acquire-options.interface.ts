/** Options of one acquisition: LockService.acquire/tryAcquire/withLock and @WithLock. */
export interface AcquireOptions {
  /** Lease length in ms: a positive integer from 10 to 2^31-1. Default: the module's `ttl` (30 000). */
  ttl?: number;
  /**
   * How long to wait for a busy lock, in ms: an integer from 0 to 2^31-1; 0 makes one attempt.
   * Default: the module's `wait` (5 000). Ignored by tryAcquire (always one attempt).
   */
  wait?: number;
  /** Renew the lease in the background (about every ttl/3) while the lock is held. Default: true. */
  autoRenew?: boolean;
  /** Cancels waiting: the call rejects with the signal's reason and leaves no lock behind. */
  signal?: AbortSignal;
}
