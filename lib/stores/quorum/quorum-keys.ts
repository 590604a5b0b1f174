import { fenceKeyOf, grantKeyOf } from '../../core/keys/store-keys';

/** A quorum node's keys for a lock: the lock keys, their fence counters, their grant records. */
export function quorumKeysOf(keys: readonly string[]): string[] {
  return [...keys, ...keys.map(fenceKeyOf), ...keys.map(grantKeyOf)];
}
