import type { AcquireOptions } from './acquire-options.interface';

/** What @WithLock does when the lock stays busy for the whole wait. */
export type OnBusy = 'throw' | 'skip';

/** Options of @WithLock: the acquisition options (without a signal: the call's own life cycle cancels). */
export interface WithLockOptions extends Omit<AcquireOptions, 'signal'> {
  /**
   * `'throw'` (default): the call fails with LockNotAcquiredError (HTTP 409 on routes).
   * `'skip'`: the method does not run; the call returns undefined (an Observable completes
   * empty; an HTTP route answers 204 No Content), with a debug log line. With `wait: 0` and
   * `minHold` this runs a scheduled job once per tick across replicas.
   */
  onBusy?: OnBusy;
}
