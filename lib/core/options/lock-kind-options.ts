import type { LockKind } from '../../stores/lock-store.interface';
import { LockArgumentError } from '../errors';
import { describeValue } from '../utils/describe-value';
import type { AcquireOptions } from './acquire-options.interface';

/** Largest `limit`: a counting lock's holders are kept (and scanned) in one Redis value. */
export const MAX_LIMIT = 1_000_000;

/** Checks `limit` and `mode`, alone and together (`argument` names them in errors). */
export function checkKind({ limit, mode }: Pick<AcquireOptions, 'limit' | 'mode'>, argument: string): void {
  if (
    limit !== undefined &&
    (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
  ) {
    throw new LockArgumentError(
      `${argument}.limit`,
      `expected an integer from 1 to ${MAX_LIMIT}, got ${describeValue(limit)}`,
    );
  }
  if (mode !== undefined && mode !== 'read' && mode !== 'write') {
    throw new LockArgumentError(`${argument}.mode`, `expected 'read' or 'write', got ${describeValue(mode)}`);
  }
  if (limit !== undefined && mode === 'read') {
    throw new LockArgumentError(
      `${argument}.limit`,
      "a counting lock has no read mode: give either limit or mode: 'read'",
    );
  }
}

/** The kind of lock checked options ask for: a permit with `limit`, a reader with `mode: 'read'`, else a mutex. */
export function kindOf({ limit, mode }: Pick<AcquireOptions, 'limit' | 'mode'>): LockKind {
  if (limit !== undefined) return 'permit';
  return mode === 'read' ? 'read' : 'mutex';
}

/**
 * Refuses what a kind cannot do with these keys or this store, before anything is sent: permits
 * and readers live on one key, and only on stores that list their kind.
 */
export function checkKindFits(kind: LockKind, keyCount: number, storeKinds: readonly LockKind[]): void {
  if (kind === 'mutex') return;
  const option = kind === 'permit' ? 'options.limit' : 'options.mode';
  if (keyCount > 1)
    throw new LockArgumentError(
      option,
      `a ${kind === 'permit' ? 'counting lock' : 'read lock'} takes one key, got ${keyCount}`,
    );
  if (!storeKinds.includes(kind))
    throw new LockArgumentError(
      option,
      `this store does not implement ${kind === 'permit' ? 'counting locks' : 'read locks'}`,
    );
}
