/** How a read-write lock is taken: shared ('read') or exclusive ('write'). */
export type LockMode = 'read' | 'write';

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
  /**
   * Hold the lock at least this long (ms, counted from acquisition), even when the work ends
   * sooner: release then leaves the lease to run out at that point instead of deleting it, so a
   * replica that triggers the same scheduled job a moment later finds it busy. Default: 0.
   */
  minHold?: number;
  /**
   * Stop renewing this long after acquisition (ms, at least `ttl`): a runaway holder then loses
   * the lock (reason `max-hold`) instead of keeping it forever. Default: no cap.
   */
  maxHold?: number;
  /**
   * The lock's name in telemetry (the `lock.name` attribute of spans and metrics): keep it
   * low-cardinality, such as `'order'` for `order:${id}`. The key itself is never recorded unless
   * the module's `telemetry.keyAsName` opts in. Default: the @WithLock key template as written,
   * `'unnamed'` for LockService calls.
   */
  name?: string;
  /**
   * A counting lock: at most `limit` holders of the key at once (an integer from 1 to 1 000 000),
   * each with a permit of its own (its own lease, token and fence). Each caller counts against the
   * limit it gives. One key only; not with `mode: 'read'`. Default: none (an exclusive lock).
   */
  limit?: number;
  /**
   * A read-write lock: `'read'` shares the key with other readers, `'write'` (the default, the
   * exclusive lock) excludes readers and writers. A waiting writer holds back readers that arrive
   * after it. A read inside the chain's own write re-enters; a write inside its own read is
   * refused (LockArgumentError). One key only for `'read'`.
   */
  mode?: LockMode;
  /** Cancels waiting: the call rejects with the signal's reason and leaves no lock behind. */
  signal?: AbortSignal;
}
