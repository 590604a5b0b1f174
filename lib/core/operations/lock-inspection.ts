import type { LockLogger } from '../lock-logger';
import { FORCE_RELEASED } from '../lock.messages';
import type { KeyHolding, LockKind, LockStore } from '../../stores/lock-store.interface';
import { holderOf } from '../holder/holder-id';

/** One holder of a lock, as `LockService.inspect` reports it. */
export interface LockHolder {
  /** The holder's `holderId` (default host name and pid); undefined for a token without one. */
  readonly holder: string | undefined;
  /** What it holds: 'mutex' (a writer, or a plain lock), 'permit' (of a counting lock) or 'read'. */
  readonly kind: LockKind;
  /** The fence of its lease. */
  readonly fence: number;
  /** Its lease's time left, in ms (renewal moves it out while the holder is alive). */
  readonly expiresIn: number;
}

/** Who holds a lock now: `held` false and no holders for a free one. */
export interface LockInspection {
  readonly held: boolean;
  /** One per holder (one for a mutex; several keys taken together are one holder). */
  readonly holders: readonly LockHolder[];
}

/** Who holds `storeKeys`: a token on several of them is one holder (its highest fence, its least time left). */
export async function inspectLock(
  store: LockStore,
  kind: LockKind,
  storeKeys: readonly string[],
): Promise<LockInspection> {
  const holders = byToken(await store.inspect({ kind, keys: storeKeys })).map((held) => ({
    holder: holderOf(held[0]!.token),
    kind: held[0]!.kind,
    fence: Math.max(...held.map((holding) => holding.fence)),
    expiresIn: Math.min(...held.map((holding) => holding.expiresIn)),
  }));
  return { held: holders.length > 0, holders };
}

/**
 * Frees `storeKeys` whoever holds them (see LockStore.forceRelease) and logs a warning naming
 * each old holder; true when something was freed.
 */
export async function forceReleaseLock(
  store: LockStore,
  kind: LockKind,
  keys: readonly string[],
  storeKeys: readonly string[],
  logger: LockLogger,
): Promise<boolean> {
  const freed = await store.forceRelease({ kind, keys: storeKeys });
  for (const held of byToken(freed)) {
    const fence = Math.max(...held.map((holding) => holding.fence));
    logger.warn(FORCE_RELEASED(keys, holderOf(held[0]!.token) ?? 'an unnamed holder', fence));
  }
  return freed.length > 0;
}

function byToken<T extends Pick<KeyHolding, 'token'>>(holdings: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const holding of holdings) {
    const group = groups.get(holding.token);
    if (group) group.push(holding);
    else groups.set(holding.token, [holding]);
  }
  return [...groups.values()];
}
