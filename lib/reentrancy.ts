import type { Lease, LeaseOwner } from './lease';
import { Lock } from './lock';
import { heldInCallChain } from './lock-scope';

/**
 * Reentrancy: when the current call chain already holds every requested key (through leases of
 * `owner`, one LockService), a new handle on that lease, with no round trip; otherwise the keys
 * still to take (those the chain holds are left out, so a chain never waits on itself).
 */
export function reenter(
  owner: LeaseOwner,
  keys: string[],
  storeKeys: string[],
): Lock | { keys: string[]; storeKeys: string[] } {
  const heldKeys = new Map<string, Lease>();
  for (const { lease } of heldInCallChain()) {
    if (lease.owner !== owner) continue;
    if (storeKeys.every((key) => lease.storeKeys.includes(key))) return reenterLease(lease);
    for (const key of lease.storeKeys) if (!heldKeys.has(key)) heldKeys.set(key, lease);
  }
  const missing = storeKeys.flatMap((key, index) => (heldKeys.has(key) ? [] : [index]));
  // Held, but split over several leases of the chain: re-enter the innermost one with the first key.
  if (missing.length === 0) return reenterLease(heldKeys.get(storeKeys[0]!)!);
  return { keys: missing.map((i) => keys[i]!), storeKeys: missing.map((i) => storeKeys[i]!) };
}

function reenterLease(lease: Lease): Lock {
  lease.retain();
  return new Lock(lease, true);
}
