import type { AcquireOptions } from './acquire-options.interface';

/** Options of @WithLock: the acquisition options, without a signal (the call's own life cycle cancels). */
export type WithLockOptions = Omit<AcquireOptions, 'signal'>;
