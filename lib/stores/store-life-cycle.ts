import { LockStoreError } from '../core/errors';

/** `closing`: no new calls, those in flight finish; `closed`: every call is refused. */
export type StoreState = 'open' | 'closing' | 'closed';

/** A store's open -> closing -> closed life, shared by every store. */
export class StoreLifeCycle {
  private current: StoreState = 'open';
  private ended: Promise<void> | undefined;

  get state(): StoreState {
    return this.current;
  }

  /** Throws LockStoreError unless open: new calls are refused from close() on. */
  assertOpen(): void {
    if (this.current !== 'open') throw LockStoreError.closed();
  }

  /**
   * Closes once, however often called: `closing` while `drain` lets calls in flight finish, then
   * `closed`, then `finish` lets go of what the store holds.
   */
  close(drain: () => Promise<void>, finish: () => Promise<void> | void): Promise<void> {
    this.ended ??= this.run(drain, finish);
    return this.ended;
  }

  private async run(drain: () => Promise<void>, finish: () => Promise<void> | void): Promise<void> {
    this.current = 'closing';
    await drain();
    this.current = 'closed';
    await finish();
  }
}
