/** Metadata key under which @WithLock stores its options on the (wrapped) method. */
export const WITH_LOCK_METADATA = 'REDIS_LOCK:WITH_LOCK';

/** Injection token of the LockStore the module created. */
export const LOCK_STORE = Symbol('REDIS_LOCK:STORE');

export const DEFAULT_KEY_PREFIX = 'lock:';
/** Lease length: long enough that a missed renewal or two does not lose the lock. */
export const DEFAULT_TTL = 30_000;
/** How long acquire() and @WithLock wait for a busy lock before LockNotAcquiredError. */
export const DEFAULT_WAIT = 5_000;
/** Bound on one Redis round trip: past it the call fails with LockStoreError instead of hanging. */
export const DEFAULT_STORE_TIMEOUT = 3_000;

/**
 * How long locks already held when shutdown begins stay held (and renewed) so the work under
 * them can finish: within Kubernetes' default terminationGracePeriodSeconds (30 s).
 */
export const DEFAULT_SHUTDOWN_GRACE = 10_000;

/** setTimeout's largest delay; longer ttl/wait values would fire at once. */
export const MAX_DURATION = 2_147_483_647;
/** Below this a lease renewed every ttl/3 would flood Redis. */
export const MIN_TTL = 10;
export const MAX_KEY_LENGTH = 1024;
/** Most keys one lock may take at once (one script call, one slot on a cluster). */
export const MAX_KEYS = 64;

/**
 * Waiting: the head waiter's fallback poll, from the first delay up to the cap (ms). Releases wake
 * waiters through notifications; the poll only catches leases that expire and lost messages, and
 * never sleeps past the end of the blocking lease.
 */
export const RETRY_MIN_DELAY = 25;
export const RETRY_MAX_DELAY = 500;

/**
 * How long a fence counter outlives the last lease taken on its key (ms). Counters then expire,
 * so a lock per order id does not leave a key behind forever; a missing counter is seeded from the
 * Redis server's clock in microseconds, above every fence issued before (see lua-scripts.ts).
 */
export const FENCE_RETENTION = 600_000;

/** Injection token of the validated module options (defaults filled in). */
export const RESOLVED_OPTIONS = Symbol('REDIS_LOCK:RESOLVED_OPTIONS');
