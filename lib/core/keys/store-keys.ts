import { LockArgumentError } from '../errors';
import { describeValue } from '../utils/describe-value';
import { hashSlot } from './hash-slot';
import { slotTag } from './slot-tags';

/**
 * Redis key names. A Redis Cluster hashes only the first non-empty `{...}` group of a key. A key
 * without one is wrapped whole (`lock:{order:1}`); a key that has one (`{tenant:7}:report`) keeps
 * it, which is how several keys of one lock are put in one slot.
 */
export function toStoreKey(prefix: string, key: string, argument = 'key'): string {
  // Without a `{` anywhere (the usual key), no joined string to search.
  if (key.indexOf('{') === -1 && prefix.indexOf('{') === -1) return `${prefix}{${key}}`;
  const full = prefix + key;
  if (!hasHashTag(full)) return `${prefix}{${key}}`;
  // Kept verbatim, it could name a fence counter (`redis-lock:{ab}:fence`). A wrapped key ends in
  // `}`, so it never does.
  if (full.endsWith(FENCE_SUFFIX) || full.includes(`${FENCE_SUFFIX}:`)) {
    throw new LockArgumentError(
      argument,
      `${describeValue(key)} has a "${FENCE_SUFFIX}" segment, which names fence counters`,
    );
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

/**
 * The fence counter of `storeKey`'s hash slot: one per slot (at most 16,384 keys, never expiring),
 * named with a short hash tag of that slot, so on a Cluster it lives beside the lock key.
 */
export function fenceCounterOf(storeKey: string): string {
  const slot = hashSlot(storeKey);
  return (counterNames[slot] ??= `redis-lock:{${slotTag(slot)}}${FENCE_SUFFIX}`);
}

/** Counter names by slot, built on first use (a lock's hot path then only hashes its key). */
const counterNames: string[] = [];

/** The keys a grant script takes: the lock keys, then their slots' fence counters. */
export function withFenceKeys(keys: readonly string[]): string[] {
  if (keys.length === 1) return [keys[0]!, fenceCounterOf(keys[0]!)];
  return [...keys, ...keys.map(fenceCounterOf)];
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
