import type { LockLostReason } from './lock-lost-reason';

/** Every user-facing message in one place, so wording stays consistent and testable. */
export const LOCK_BUSY = (keys: readonly string[], waited: number) =>
  `Lock ${formatKeys(keys)} is held by another owner (waited ${waited} ms)`;

export const LOCK_LOST = (keys: readonly string[], reason: string) => `Lock ${formatKeys(keys)} was lost: ${reason}`;

export const STORE_FAILED = (operation: string, detail: string) => `Lock store failed during ${operation}: ${detail}`;

export const STORE_IN_TRANSACTION = () =>
  'Redis answered QUEUED: the shared client is inside a MULTI transaction (multi({ pipeline: false })), ' +
  'so the command did not run; give the lock module a client of its own, or use the pipelined multi()';

export const STORE_TIMEOUT = (operation: string, ms: number) =>
  `Lock store did not answer ${operation} within ${ms} ms`;

export const STORE_REFUSED = (operation: string, code: string | undefined, detail: string) =>
  `Lock store did not send ${operation}: ${code === 'ECONNREFUSED' ? 'Redis refused the connection' : 'Redis is unreachable'} ` +
  `(${detail}); answering at once until the client reconnects`;

export const REPLICAS_MISSING = (operation: string, acknowledged: number, required: number, ms: number) =>
  `Lock store: only ${acknowledged} of ${required} replica(s) acknowledged the ${operation} within ${ms} ms ` +
  `(waitForReplicas), so the lock was released`;

export const QUORUM_UNREACHABLE = (operation: string, failed: number, count: number, detail: string) =>
  `Lock store could not reach a majority for ${operation}: ${failed} of ${count} Redis nodes failed or did not answer (${detail})`;

export const QUORUM_TOO_SLOW = (operation: string, elapsed: number, ttl: number) =>
  `Lock store took ${elapsed} ms to ${operation} a ${ttl} ms lease on a majority: nothing is left of its validity, so it was undone`;

export const STORE_CLOSED = () => 'Lock store is closed (the application is shutting down)';

export const INVALID_ARGUMENT = (argument: string, problem: string) => `Invalid ${argument}: ${problem}`;

/** What clients are told; the store's own error stays in the server log. */
export const LOCK_UNAVAILABLE_ANSWER = () => 'The lock service is unavailable';

export const LOCK_LOST_ANSWER = (keys: readonly string[]) =>
  `Lock ${formatKeys(keys)} was lost before the work finished`;

export const OUTAGE_ANSWERED = (detail: string) =>
  `Answering LOCK_UNAVAILABLE: ${detail} (repeats are logged at debug level until the store answers again)`;

export const OUTCOME_ANSWERED = (code: string, detail: string) => `Answering ${code}: ${detail}`;

/** Health check answers, for an operator reading a probe's output. */
export const HEALTH_NO_ANSWER = (ms: number) => `Redis did not answer within ${ms} ms`;

export const HEALTH_UNREACHABLE = (detail: string) => `Redis could not be reached: ${detail}`;

export const RELEASE_FAILED = (keys: readonly string[], detail: string) =>
  `Releasing lock ${formatKeys(keys)} failed (its lease will expire on its own): ${detail}`;

export const RENEWAL_FAILED = (keys: readonly string[], detail: string) =>
  `Renewing lock ${formatKeys(keys)} failed, retrying until the lease ends: ${detail}`;

export const NO_RUNNER = (method: string, decorator = '@WithLock') =>
  `${decorator} method ${method} was called, but no RedisLockModule is initialised in this process ` +
  `(import RedisLockModule.forRoot() and call it after the application has initialised)`;

export const REQUEST_SCOPED_PROVIDER = (provider: string) =>
  `${provider} is not a singleton: its @WithLock methods use the most recently initialised RedisLockModule`;

export const OBSERVABLE_NOT_DECLARED = (method: string) =>
  `@WithLock method ${method} returned an Observable but is not declared to return Observable; ` +
  `declare the return type (": Observable<T>", with Observable imported as a value, not "import type") ` +
  `so the lock is held while it is subscribed`;

export const LOCK_SKIPPED = (keys: readonly string[], source: string) =>
  `Skipped ${source}: lock ${formatKeys(keys)} is held by another owner (onBusy: 'skip')`;

export const LOST_HOOK_FAILED = (keys: readonly string[], detail: string) =>
  `The onLockLost hook threw for lock ${formatKeys(keys)}: ${detail}`;

function formatKeys(keys: readonly string[]): string {
  return keys.length === 1 ? `"${keys[0]}"` : `[${keys.map((k) => `"${k}"`).join(', ')}]`;
}

/** Why a held lock was lost, by reason, as LockLostError messages say it. */
export const LOST_BECAUSE: Record<LockLostReason, (cause?: unknown) => string> = {
  expired: () => 'the lease ended before a renewal was confirmed',
  'not-held': () => 'the lease expired or another owner holds it',
  unreachable: (cause) =>
    cause === undefined
      ? 'Redis did not answer the renewal before the lease ended'
      : `Redis could not be reached before the lease ended: ${(cause as Error)?.message ?? String(cause)}`,
  'max-hold': () => 'it reached its maxHold, so renewal stopped',
  shutdown: () => 'the application is shutting down',
};

/** What extend() on a released lock says. */
export const RELEASED = 'it was released';

export const CONNECTION_ERROR = (detail: string) => `Redis connection error (retrying in the background): ${detail}`;

export const CONNECTION_RESTORED = () => 'Redis connection restored';

export const QUIT_FAILED = (detail: string) => `Closing the Redis connection failed, disconnecting: ${detail}`;

export const NOTIFICATIONS_UNAVAILABLE = (detail: string) =>
  `Release notifications unavailable, waiters poll: ${detail}`;

export const WAIT_FOR_REPLICAS_ON_CLUSTER =
  'is not supported on a Redis Cluster (WAIT must follow the script on the node that ran it); ' +
  'use a single Redis or Sentinel deployment, or leave it unset';

export const FORCE_RELEASED = (keys: readonly string[], holder: string, fence: number) =>
  `Force-released lock ${formatKeys(keys)} held by ${holder} (fence ${fence}): it learns at its next renewal`;

export const LEADERSHIP_ELECTED = (name: string, term: number) => `Elected leader of "${name}" (term ${term})`;

export const LEADERSHIP_STEPPED_DOWN = (name: string, term: number, why: string) =>
  `Stepped down as leader of "${name}" (term ${term}): ${why}`;

export const LEADERSHIP_RETRY = (name: string, detail: string) =>
  `Campaign for leader of "${name}" failed, retrying: ${detail}`;

export const LEADERSHIP_RESIGNED = (name: string) => `The campaign for leader of "${name}" ended (resigned)`;

export const NOT_LEADER_SKIPPED = (method: string, name: string) =>
  `Skipped ${method}: this replica is not the leader of "${name}" (@LeaderOnly)`;

export const NOT_LEADER = (name: string) => `This replica is not the leader of "${name}"`;
