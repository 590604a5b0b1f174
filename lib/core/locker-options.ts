import type { LockLostEvent } from './lock-lost-event.interface';

/** What the Locker takes from the module's resolved options. @internal */
export interface LockerOptions {
  /** Prepended to every user key (see keys/store-keys). */
  readonly keyPrefix: string;
  /** How long holders keep their locks while the application drains (ms). */
  readonly shutdownGrace: number;
  /** Who this process is, carried in every token it creates (see holder/holder-id.ts). */
  readonly holderId: string;
  readonly onLockLost: ((event: LockLostEvent) => void) | undefined;
}
