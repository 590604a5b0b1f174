/**
 * Where leases live. Keys here are full store keys (prefix applied). Every method is atomic:
 * acquisition takes all keys or none, extend/release act only while `token` still owns every key.
 */
export interface LockStore {
  /**
   * Takes every key for `ttl` ms if none is held. Returns the fence (> 0, strictly increasing per
   * key, issued in the same atomic step) on success, or `null` when busy.
   */
  tryAcquire(keys: readonly string[], token: string, ttl: number): Promise<number | null>;
  /** Resets the lease to `ttl` ms if `token` still owns every key; false if it does not. */
  extend(keys: readonly string[], token: string, ttl: number): Promise<boolean>;
  /** Deletes the keys `token` owns; true if it owned every key. */
  release(keys: readonly string[], token: string): Promise<boolean>;
  /** True if any of the keys is held. */
  isLocked(keys: readonly string[]): Promise<boolean>;
  /**
   * Resolves when one of `keys` may have been released, after at most `maxMs`, or when `signal`
   * aborts. Stores that cannot be notified simply sleep; waiting always re-checks with tryAcquire.
   */
  waitForRelease(keys: readonly string[], maxMs: number, signal?: AbortSignal): Promise<void>;
  /** Stops timers and closes connections the store created (never a client the user passed in). */
  close(): Promise<void>;
}
