import { Injectable } from '@nestjs/common';
import { type LockLostReason, LockNotAcquiredError } from '../../core/errors';
import type { LockKey } from '../keys/lock-key.interface';
import { toStoreKeys } from '../../core/keys/store-keys';
import { validateKeys } from '../../core/keys/validate-keys';
import { LockService } from '../lock.service';
import { TESTING_BUSY_TTL } from '../../core/tuning';
import { createToken } from '../../core/utils/create-token';
import { holderSuffix } from '../../core/holder/holder-id';

/** How inspect() names a holdBusy lock's holder. */
export const TESTING_HOLDER_ID = 'LockTesting.holdBusy';

/** A key made busy by `LockTesting.holdBusy`: another owner's lock, until released. */
export interface BusyLock {
  /** The other owner's fence. */
  readonly fence: number;
  /** Lets the key go (waiters of the app under test are woken, as by a real release). */
  release(): Promise<void>;
}

/**
 * Drives the lock's outcomes in your own tests, without Redis and without timing tricks:
 * make a key busy as another replica would (your 409, `onBusy: 'skip'` and waiting paths), and
 * make the locks your code holds lost (its `lock.signal` / `onLockLost` path).
 */
@Injectable()
export class LockTesting {
  constructor(private readonly locks: LockService) {}

  /**
   * Holds `key` as another owner (another replica): this app's acquisitions find it busy until
   * `release()`, or until `ttl` ms pass (default: one hour, longer than any test). `inspect()`
   * names its holder `'LockTesting.holdBusy'`.
   */
  async holdBusy(key: LockKey, ttl = TESTING_BUSY_TTL): Promise<BusyLock> {
    const { store, keyPrefix } = this.locks.internals();
    const keys = validateKeys(key);
    // Named for inspect() as the other owner it stands for.
    const token = createToken() + holderSuffix(TESTING_HOLDER_ID);
    const request = { kind: 'mutex', keys: toStoreKeys(keyPrefix, keys), token, ttl } as const;
    const attempt = await store.tryAcquire(request);
    // Already held (by the app or an earlier holdBusy): the test's own setup is wrong.
    if (attempt.fence === null) throw new LockNotAcquiredError(keys, 0);
    return { fence: attempt.fence, release: async () => void (await store.release(request)) };
  }

  /**
   * Makes the locks this app holds lost, as when Redis expired or gave them away: their
   * `signal`s abort with a LockLostError of `reason` and `onLockLost` is called. Only those
   * covering `key` when given. Returns how many were lost.
   */
  loseHeldLocks(options: { key?: string; reason?: LockLostReason } = {}): number {
    const { key, reason = 'not-held' } = options;
    const leases = this.locks
      .internals()
      .heldLeases()
      .filter((lease) => key === undefined || lease.keys.includes(key));
    for (const lease of leases) lease.lose(reason);
    return leases.length;
  }

  /** The keys (without prefix) of the locks this app holds now. */
  heldKeys(): string[] {
    return this.locks
      .internals()
      .heldLeases()
      .flatMap((lease) => lease.keys);
  }
}
