import type { LockKeySource } from '../keys/lock-key.interface';
import type { CheckedOptions } from '../../core/options/validate-acquire-options';

/** What @WithLock records on a method. */
export interface WithLockMetadata {
  key: LockKeySource;
  /** As given to the decorator, checked when the class was defined. */
  options: CheckedOptions;
  /** `Class.method`, for messages. */
  method: string;
  /** Declared to return an Observable: the lock is then held while it is subscribed. */
  returnsObservable: boolean;
}
