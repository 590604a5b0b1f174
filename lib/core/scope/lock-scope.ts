import { AsyncLocalStorage } from 'node:async_hooks';
import type { Lock } from '../lock';

/** What the current async call chain holds. */
export interface LockScope {
  readonly lock: Lock;
  readonly parent: LockScope | undefined;
  /**
   * The route handler the interceptor already locked for: the handler's own @WithLock wrapper
   * lets exactly one call of it through instead of locking a second time.
   */
  readonly routeHandler?: { readonly handler: Function; used: boolean };
}

const storage = new AsyncLocalStorage<LockScope>();

/** The locks the current call chain holds, innermost first (released ones are skipped). */
export function* heldInCallChain(): Generator<Lock> {
  for (let scope = storage.getStore(); scope; scope = scope.parent) {
    if (scope.lock.held) yield scope.lock;
  }
}

/** The innermost lock the call chain holds (one covering `key`, if given) that `accept` accepts. */
export function findHeldLock(key?: string, accept: (lock: Lock) => boolean = () => true): Lock | undefined {
  for (const lock of heldInCallChain()) {
    if ((key === undefined || lock.keys.includes(key)) && accept(lock)) return lock;
  }
  return undefined;
}

/** True when the current call chain runs under some lock (the fast check before reentrancy). */
export function inLockScope(): boolean {
  return storage.getStore() !== undefined;
}

/** Runs `work` with `lock` as the innermost lock of the call chain. */
export function runInLockScope<T>(lock: Lock, work: () => T, routeHandler?: Function): T {
  const scope: LockScope = {
    lock,
    parent: storage.getStore(),
    routeHandler: routeHandler && { handler: routeHandler, used: false },
  };
  return storage.run(scope, work);
}

/**
 * Runs `work` outside every lock scope: nothing it starts re-enters a lock of the current call
 * chain. For long-lived things first armed inside a lock (a lazily started timer, batcher or
 * event listener): every callback of theirs would otherwise run in that lock's scope, and work
 * of unrelated callers done there would re-enter a lock another chain holds.
 */
export function runOutsideLockScope<T>(work: () => T): T {
  return storage.getStore() === undefined ? work() : storage.exit(work);
}

/** True (once) when `handler` is the route handler the interceptor is running under its lock. */
export function claimRouteHandler(handler: Function): boolean {
  const marker = storage.getStore()?.routeHandler;
  if (!marker || marker.used || marker.handler !== handler) return false;
  marker.used = true;
  return true;
}
