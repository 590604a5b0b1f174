/** Injection tokens of the module's internal providers. */

/** Injection token of the LockStore the module created. */
export const LOCK_STORE = Symbol('REDIS_LOCK:STORE');

/** Injection token of the validated module options (defaults filled in). */
export const RESOLVED_OPTIONS = Symbol('REDIS_LOCK:RESOLVED_OPTIONS');
