import { LockArgumentError } from '../errors';
import { describeValue } from '../utils/describe-value';

/**
 * Redis key names. A Redis Cluster hashes only the first non-empty `{...}` group of a key, so a lock
 * key and its fence counter share a slot when they share that group. A key without one is wrapped
 * whole (`lock:{order:1}`, `lock:{order:1}:fence`); a key that has one (`{tenant:7}:report`) keeps
 * it, which is how several keys of one lock are put in one slot.
 */
export function toStoreKey(prefix: string, key: string, argument = 'key'): string {
  const full = prefix + key;
  if (!hasHashTag(full)) return `${prefix}{${key}}`;
  // Kept verbatim, it could name another lock's fence counter (`{a}:fence` is the counter of `a`)
  // or a quorum's grant record (`{a}:fence:grant`).
  if (full.endsWith(FENCE_SUFFIX) || full.includes(`${FENCE_SUFFIX}:`)) {
    throw new LockArgumentError(argument, `${describeValue(key)} has a "${FENCE_SUFFIX}" segment, which names fence counters`);
  }
  return full;
}

/**
 * The store keys of a lock's keys. Two keys that name one Redis key (`x` and `{x}` both become
 * `lock:{x}`) are refused: the lock would take that key once, and its release would report a key
 * it never held.
 */
export function toStoreKeys(prefix: string, keys: readonly string[]): string[] {
  if (keys.length === 1) return [toStoreKey(prefix, keys[0]!)];
  const storeKeys = keys.map((key) => toStoreKey(prefix, key));
  if (new Set(storeKeys).size === storeKeys.length) return storeKeys;
  const second = storeKeys.findIndex((storeKey, index) => storeKeys.indexOf(storeKey) !== index);
  const first = storeKeys.indexOf(storeKeys[second]!);
  throw new LockArgumentError(
    `key[${second}]`,
    `${describeValue(keys[second])} names the same Redis key as key[${first}] ${describeValue(keys[first])} (${describeValue(storeKeys[first])})`,
  );
}

const FENCE_SUFFIX = ':fence';

export function fenceKeyOf(storeKey: string): string {
  return storeKey + FENCE_SUFFIX;
}

/** The keys a grant script takes: the lock keys, then their fence counters. */
export function withFenceKeys(keys: readonly string[]): string[] {
  if (keys.length === 1) return [keys[0]!, fenceKeyOf(keys[0]!)];
  return [...keys, ...keys.map(fenceKeyOf)];
}

/** Where a quorum node records the fence its phase 2 last wrote for a lock key, and for whom. */
export function grantKeyOf(storeKey: string): string {
  return `${fenceKeyOf(storeKey)}:grant`;
}

function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  if (open === -1) return false;
  const close = key.indexOf('}', open + 1);
  return close > open + 1;
}

/** The pub/sub channel on which the release of `storeKey` is announced (must match RELEASE_SCRIPT). */
export function releaseChannelOf(storeKey: string): string {
  return `${storeKey}:released`;
}
