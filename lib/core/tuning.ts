/** Internal tuning values: how often, how long, how much slack. Not options; changed here only. */

/**
 * Waiting: the head waiter's fallback poll, from the first delay up to the cap (ms). Releases wake
 * waiters through notifications; the poll only catches leases that expire and lost messages, and
 * never sleeps past the end of the blocking lease.
 */
export const RETRY_MIN_DELAY = 25;
export const RETRY_MAX_DELAY = 500;

/**
 * Fences a grant reserves (see fence-scripts.ts): its own, and one per optimistic hand-over that
 * may follow it in its process before Redis issues a fence again (WaitQueues confirms every
 * FENCE_BLOCK-th hand-over before its receiver starts). A slot's counter trails the server's clock
 * while it grants fewer than 1,000,000 / FENCE_BLOCK leases a second, which keeps restarts from a
 * snapshot ordered by the clock.
 */
export const FENCE_BLOCK = 16;

/**
 * Consecutive hand-overs inside this process before a release goes through Redis again, so waiters
 * in other processes (woken by the release notification) get their turn. Counted only while
 * another process listens for the keys: each hand-over's reply says (see HAND_OVER_SCRIPT), and
 * one that says nobody else does starts the count again.
 */
export const MAX_LOCAL_HAND_OVERS = 8;

/**
 * After a release that went through Redis because of the caps below and above while the last
 * hand-over's reply said others listen, this process' head waiter waits this long (ms) before its
 * own attempt: a waiter of another process, woken by the same notification, needs one turn of its
 * event loop and a write to get there first. A hand-over or a later release wakes it at once.
 */
export const YIELD_TO_OTHER_PROCESSES = 5;

/**
 * Consecutive local hand-overs before a release goes through Redis even when nobody else seemed
 * to listen: waiters the count cannot see (a process polling because its subscription failed,
 * callers retrying with wait 0) still get a chance. At 1 ms sections, one release through Redis
 * (about 0.5 ms) per 64 costs under 1% of the time held.
 */
export const MAX_UNCONTESTED_HAND_OVERS = 64;

/**
 * An in-process hand-over starts the next holder at once (before Redis confirms it) only while
 * the giver's lease has more than this left (ms): many round trips, so the confirmation arrives
 * well before the giver's lease, which covers the receiver until then, ends.
 */
export const OPTIMISTIC_HAND_OVER_MARGIN = 50;

/**
 * A release channel stays subscribed this long (ms) after its last waiter left, for the next one.
 * Callers of one process taking turns on a key empty its queue at each hand-over and queue again
 * a few round trips later: without the pause, the channel was unsubscribed in between, and the
 * hand-over's count of listeners could not tell whether it included this process. Short, because
 * a lingering subscription looks like a waiter to other processes' counts.
 */
export const SUBSCRIPTION_LINGER = 100;

/** A lease is renewed when this fraction of it has passed. */
export const RENEW_AT = 1 / 3;

/** Renewal retries after a failed extend, every tenth of the lease but never slower than this (ms). */
export const MAX_RENEWAL_RETRY_INTERVAL = 1_000;

/** Clock-drift allowance: a lease of n ms is relied on for n less this share of it, less DRIFT_FIXED ms. */
export const DRIFT_RATE = 0.01;
export const DRIFT_FIXED = 2;

/**
 * Outage warnings: the first LOCK_UNAVAILABLE answer is logged as a warning, later ones at debug
 * level until a lock is acquired again through a route, or until none was answered for this long (ms).
 */
export const OUTAGE_QUIET_PERIOD = 30_000;

/** Testing kit: how long `LockTesting.holdBusy` holds a key by default (ms): longer than any test. */
export const TESTING_BUSY_TTL = 3_600_000;

/**
 * Commands gathered into one socket write while others are in flight (see WriteCoalescer): with
 * 64 concurrent callers, 16 measured best (8 and 32 a little slower; unbounded, much slower).
 */
export const WRITE_BATCH = 16;

/**
 * An optimistic hand-over's command may wait for the end of the turn (its receiver starts first)
 * only while the giver's lease covers the receiver for longer than this (ms); otherwise it is
 * written at once. Synchronous work that blocks the event loop this long would stall every lease's
 * renewal anyway. Measured in steady-contention: gap p50 about 0.1 ms written at once, 0.05 ms
 * gathered.
 */
export const HAND_OVER_GATHER_MARGIN = 1_000;

/**
 * How long (ms) a writer waiting for readers holds back readers that arrive after it, in every
 * process: renewed by each of its attempts (at least every RETRY_MAX_DELAY while it is the head
 * of its queue), so it lapses soon after the writer stops waiting.
 */
export const WRITER_WAITING_MARK = 4 * RETRY_MAX_DELAY;
