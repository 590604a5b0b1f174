/**
 * Why a held lock stopped being ours: `expired` (no renewal confirmed before the lease ended),
 * `not-held` (Redis says another owner holds it, or nobody), `unreachable` (Redis could not be
 * reached before the lease ended), `max-hold` (renewal stopped at the lock's maxHold),
 * `shutdown` (the application is closing).
 */
export type LockLostReason = 'expired' | 'not-held' | 'unreachable' | 'max-hold' | 'shutdown';
