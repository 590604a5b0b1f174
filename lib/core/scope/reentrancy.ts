import type { Lease } from '../lease/lease';
import type { LeaseContext } from '../lease/lease-context';
import type { LockKind } from '../../stores/lock-store.interface';
import { LockArgumentError } from '../errors';
import { heldInCallChain } from './lock-scope';

/** What the current call chain already holds of a request, and what it still has to take. */
export interface Reentry {
  /**
   * The chain's leases (of one LockService) covering the requested keys, innermost first, each
   * retained once: the new handle keeps every one of them held until it is released.
   */
  readonly covering: Lease[];
  /** The requested keys no lease of the chain holds (empty: a pure re-entry, no round trip). */
  readonly missingKeys: string[];
  readonly missingStoreKeys: string[];
}

/**
 * Reentrancy: the leases taken with `context` (one Locker's) the current call chain holds that cover some of the requested
 * keys (retained for the caller's handle), and the keys still to take, so a chain never waits on
 * itself. Undefined when the chain holds none of them.
 */
export function reenter(
  context: LeaseContext<Lease>,
  keys: readonly string[],
  storeKeys: readonly string[],
  kind: LockKind = 'mutex',
): Reentry | undefined {
  const covering: Lease[] = [];
  const covered = new Set<string>();
  for (const { lease } of heldInCallChain()) {
    if (lease.context !== context || covering.includes(lease)) continue;
    if (!lease.storeKeys.some((key) => storeKeys.includes(key) && !covered.has(key))) continue;
    if (!covers(lease.kind, kind)) throw upgradeRefused(lease.kind, kind, lease.keys);
    covering.push(lease);
    for (const key of lease.storeKeys) covered.add(key);
    if (covered.size >= storeKeys.length && storeKeys.every((key) => covered.has(key))) break;
  }
  if (covering.length === 0) return undefined;
  for (const lease of covering) lease.retain();
  const missing = storeKeys.flatMap((key, index) => (covered.has(key) ? [] : [index]));
  return {
    covering,
    missingKeys: missing.map((i) => keys[i]!),
    missingStoreKeys: missing.map((i) => storeKeys[i]!),
  };
}

/**
 * Whether a held lease of kind `held` covers a request of kind `wanted` on its key: an exclusive
 * lease covers everything (a read inside the chain's own write), a shared one only its own kind.
 */
function covers(held: LockKind, wanted: LockKind): boolean {
  return held === 'mutex' || held === wanted;
}

/**
 * A chain holding a permit or a read lock asks for more of the same key: it would wait for
 * itself (its own share never leaves while it waits), so it is refused instead.
 */
function upgradeRefused(held: LockKind, wanted: LockKind, keys: readonly string[]): LockArgumentError {
  const name = { mutex: 'an exclusive (write) lock', permit: 'a permit', read: 'a read lock' };
  return new LockArgumentError(
    'options',
    `${name[wanted]} on ${JSON.stringify(keys[0])} inside the call chain's own ${name[held].replace(/^an? /, '')} would wait for itself: take the stronger lock first`,
  );
}
