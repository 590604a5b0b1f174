/** Public defaults and limits of the module and of each acquisition (documented in the README). */
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
/** Fewest independent Redis masters a quorum (`redis: [a, b, c]`) may have. */
export const MIN_QUORUM_NODES = 3;
