import type { LeaseContext, LockGrant } from './lease-context';

/**
 * How a released lease lets go of its keys: while minHold has `keepFor` ms left, it leaves them to
 * run out then (one extend); otherwise it releases them, or hands them to the next waiter of this
 * process (`validUntil`: how long the lease may still cover an optimistic hand-over, 0 if not).
 */
export function letGo(
  context: LeaseContext<unknown>,
  grant: LockGrant,
  keepFor: number,
  validUntil: number,
): Promise<boolean> {
  const { kind, storeKeys: keys, token, fence, handOverRun } = grant;
  if (keepFor > 0) return context.store.extend({ kind, keys, token, ttl: keepFor });
  return context.releaseLock({ kind, keys, token, fence, validUntil, handOverRun });
}
