import type { LockKeySource } from './lock-key.interface';
import type { WithLockOptions } from './with-lock-options.interface';

/** What @WithLock records on a method (what LockInterceptor subclasses receive in resolveKeys). */
export interface WithLockMetadata {
  key: LockKeySource;
  options: WithLockOptions;
  /** `Class.method`, for messages. */
  method: string;
  /** Declared to return an Observable: the lock is then held while it is subscribed. */
  returnsObservable: boolean;
}
