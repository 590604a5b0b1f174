import { withFenceKeys } from '../../core/keys/store-keys';

/** A quorum node's keys for a lock: the lock keys, then their slots' fence counters. */
export function quorumKeysOf(keys: readonly string[]): string[] {
  return withFenceKeys(keys);
}
