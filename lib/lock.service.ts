import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Observable, finalize, mergeMap } from 'rxjs';
import { LockArgumentError, type LockLostError, LockNotAcquiredError, LockStoreError } from './errors';
import type { AcquireOptions } from './interfaces/acquire-options.interface';
import type { LockKey } from './interfaces/lock-key.interface';
import type { LockStore } from './interfaces/lock-store.interface';
import { Lease, type LeaseOwner, type LockGrant } from './lease';
import { Lock } from './lock';
import { LOCK_SKIPPED, LOST_DETAIL, LOST_HOOK_FAILED } from './lock.messages';
import { findHeldLock, inLockScope, runInLockScope } from './lock-scope';
import { reenter } from './reentrancy';
import { lockServiceRegistry } from './lock-service.registry';
import { LOCK_STORE, RESOLVED_OPTIONS } from './redis-lock.constants';
import { toStoreKey } from './stores/store-keys';
import { Cancellation, UNSUBSCRIBED, followSignal } from './utils/cancellation';
import { createToken } from './utils/create-token';
import { retryDelay } from './utils/retry-delay';
import {
  DECORATOR_OPTIONS,
  type ResolvedAcquireOptions,
  validateAcquireOptions,
} from './validation/validate-acquire-options';
import { describe, validateKeys } from './validation/validate-keys';
import { WaitQueues } from './waiting/wait-queues';
import { Waiter } from './waiting/waiter';
import type { ResolvedModuleOptions } from './validation/validate-module-options';

/** A validated lock request: the user's keys and the acquisition options. @internal */
export interface LockRequest {
  keys: string[];
  options: ResolvedAcquireOptions;
  /** The decorated method (`Class.method`) asking, for log lines; absent for LockService calls. */
  source?: string;
}

/**
 * Distributed locks: acquire/tryAcquire hand out a Lock, withLock runs a function under one.
 * Also the one place that runs the acquire -> renew -> release life cycle (`run`, `run$`), which
 * withLock, the @WithLock method wrapper and the LockInterceptor all go through.
 */
@Injectable()
export class LockService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('RedisLock');
  private readonly held = new Set<Lease>();
  private readonly waitQueues: WaitQueues;
  private readonly owner: LeaseOwner;
  private closed = false;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModuleOptions,
    @Inject(LOCK_STORE) private readonly store: LockStore,
  ) {
    this.waitQueues = new WaitQueues(store);
    // Shared by every lease of this service: releases go through the wait queues (which may hand
    // the lock over), settled leases leave the set released on shutdown, losses are reported.
    this.owner = {
      store,
      logger: this.logger,
      releaseLock: (storeKeys, token) => this.waitQueues.release(storeKeys, token),
      leaseSettled: (lease) => this.held.delete(lease),
      leaseLost: (lease, error) => this.reportLost(lease, error),
    };
    lockServiceRegistry.register(this);
  }

  /** Acquires `key` (or all of several keys), waiting up to `wait` ms; rejects with LockNotAcquiredError. */
  async acquire(key: LockKey, options?: AcquireOptions): Promise<Lock> {
    return this.take(this.request(key, options));
  }

  /** One attempt: the Lock, or null when the lock is busy. */
  async tryAcquire(key: LockKey, options?: Omit<AcquireOptions, 'wait'>): Promise<Lock | null> {
    const request = this.request(key, options);
    request.options.wait = 0;
    try {
      return await this.take(request);
    } catch (error) {
      if (error instanceof LockNotAcquiredError) return null;
      throw error;
    }
  }

  /**
   * Acquires, runs `fn`, releases however `fn` ends. A failed release is logged, never allowed to
   * replace `fn`'s result or error.
   */
  async withLock<T>(key: LockKey, fn: (lock: Lock) => T | Promise<T>, options?: AcquireOptions): Promise<T> {
    if (typeof fn !== 'function') throw new LockArgumentError('fn', `expected a function, got ${describe(fn)}`);
    return this.run(() => this.request(key, options), fn);
  }

  /** True if any of the keys is held by anyone. */
  async isLocked(key: LockKey): Promise<boolean> {
    const keys = validateKeys(key);
    this.assertOpen();
    return this.store.isLocked(keys.map((k) => toStoreKey(this.options.keyPrefix, k)));
  }

  /**
   * The lock the current call chain holds (the innermost one; the innermost covering `key` if
   * given), or undefined. Works in any code called from withLock or a @WithLock method or route.
   */
  current(key?: string): Lock | undefined {
    return findHeldLock(key, (lock) => lock.lease.owner === this.owner);
  }

  /**
   * Validates a user's key and options against this module's defaults; `source` names the
   * decorated method asking (decorators accept onBusy too). @internal
   */
  request(key: unknown, options: unknown, source?: string): LockRequest {
    const known = source === undefined ? undefined : DECORATOR_OPTIONS;
    return { keys: validateKeys(key), options: validateAcquireOptions(options, this.options, 'options', known), source };
  }

  /**
   * The life cycle for functions: acquire, run inside the lock's scope, release. With onBusy
   * 'skip' (decorators only) a busy lock resolves undefined without running `work`. @internal
   */
  async run<T>(request: () => LockRequest, work: (lock: Lock) => T | Promise<T>): Promise<T> {
    let lock: Lock;
    const lockRequest = request();
    try {
      lock = await this.take(lockRequest);
    } catch (error) {
      if (this.skips(lockRequest, error)) return undefined as T;
      throw error;
    }
    try {
      return await runInLockScope(lock, () => work(lock));
    } finally {
      await lock.releaseQuietly();
    }
  }

  /**
   * The life cycle for Observables: acquire on subscribe (unsubscribing while waiting cancels the
   * wait), run `work` inside the lock's scope, release in finalize: on complete, error or
   * unsubscribe. `watchCancel` starts watching for another reason to stop waiting (a client that
   * disconnects) once waiting begins; `mapError` shapes acquisition errors only, never the work's
   * own. @internal
   */
  run$<T>(
    request: () => LockRequest,
    work: () => Observable<T>,
    options: {
      watchCancel?: (cancel: (reason: unknown) => void) => () => void;
      mapError?: (error: unknown) => unknown;
      routeHandler?: Function;
    } = {},
  ): Observable<T> {
    const mapError = options.mapError ?? ((error: unknown) => error);
    const acquired = new Observable<Lock>((subscriber) => {
      let lockRequest: LockRequest;
      try {
        lockRequest = request();
      } catch (error) {
        subscriber.error(mapError(error));
        return;
      }
      const userSignal = lockRequest.options.signal as AbortSignal | undefined;
      const cancellation = new Cancellation((cancel) => {
        const stopUser = followSignal(userSignal, cancel);
        const stopWatch = options.watchCancel?.(cancel);
        return () => {
          stopUser?.();
          stopWatch?.();
        };
      });
      if (userSignal?.aborted) cancellation.abort(userSignal.reason);
      lockRequest.options.signal = cancellation;
      let settled = false;
      this.take(lockRequest).then(
        (lock) => {
          settled = true;
          cancellation.dispose();
          // Unsubscribed while the acquire was in flight: nobody will run, so let go at once.
          if (subscriber.closed) return void lock.releaseQuietly();
          subscriber.next(lock);
          subscriber.complete();
        },
        (error: unknown) => {
          settled = true;
          cancellation.dispose();
          // onBusy 'skip': complete without a lock, so the work never runs.
          if (this.skips(lockRequest, error)) subscriber.complete();
          else subscriber.error(mapError(error));
        },
      );
      return () => {
        if (!settled) cancellation.abort(UNSUBSCRIBED);
      };
    });
    return acquired.pipe(
      mergeMap((lock) =>
        new Observable<T>((subscriber) =>
          runInLockScope(lock, () => work().subscribe(subscriber), options.routeHandler),
        ).pipe(finalize(() => void lock.releaseQuietly())),
      ),
    );
  }

  /**
   * Shutdown, first step: fails callers still waiting, aborts the signal of every held lock
   * (reason 'shutdown') and releases it. Runs before Nest closes the HTTP server, so handlers that
   * pass the signal on stop and the server can drain instead of hanging on them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    lockServiceRegistry.unregister(this);
    this.waitQueues.closeAll();
    const held = [...this.held];
    for (const lease of held) lease.lose('shutdown', LOST_DETAIL.shutdown);
    // Through a handle of its own: a failed release is logged, as on every other path.
    await Promise.all(held.map((lease) => new Lock(lease).releaseQuietly()));
  }

  /** Shutdown, last step: closes the store (and the Redis connections it created). */
  async onApplicationShutdown(): Promise<void> {
    await this.beforeApplicationShutdown();
    await this.store.close();
  }

  /**
   * Acquires, waiting if needed: one attempt at once (unless callers of this process already wait
   * for these keys: then it queues behind them), then in arrival order, woken by release
   * notifications, with a backoff poll as the fallback for expired leases and lost messages.
   * The first attempt reports a store failure at once (HTTP 503 on routes); a caller already
   * waiting keeps retrying through one until its wait ends, then reports the store error.
   */
  private async take({ keys, options }: LockRequest): Promise<Lock> {
    const { ttl, wait, signal } = options;
    signal?.throwIfAborted();
    this.assertOpen();
    let storeKeys = keys.map((key) => toStoreKey(this.options.keyPrefix, key));
    if (inLockScope()) {
      const reentry = reenter(this.owner, keys, storeKeys);
      if (reentry instanceof Lock) return reentry;
      ({ keys, storeKeys } = reentry);
    }
    const token = createToken();
    const started = performance.now();
    const notAcquired = () => new LockNotAcquiredError(keys, Math.round(performance.now() - started));
    /** One attempt: the Lock, or how long the blocking lease has left. */
    const attempt = async (): Promise<Lock | number> => {
      const sentAt = performance.now();
      const result = await this.store.tryAcquire(storeKeys, token, ttl);
      return result.fence === null ? result.remaining : this.granted(keys, storeKeys, token, result.fence, sentAt, options);
    };
    let remaining = 0;
    if (wait === 0 || !this.waitQueues.has(storeKeys)) {
      const result = await attempt();
      if (result instanceof Lock) return result;
      if (performance.now() - started >= wait) throw notAcquired();
      remaining = result;
    }
    const waiter = new Waiter(token, ttl);
    let acquired = false;
    /** A waiter outlasts a store outage: failed attempts are retried, the last failure reported. */
    let storeError: LockStoreError | undefined;
    await this.waitQueues.join(storeKeys, waiter);
    try {
      // Listening now: one attempt closes the gap in which a release could have gone unheard.
      let tryNow = true;
      for (let attempts = 0; ; ) {
        if (waiter.handedOver) {
          acquired = true;
          const { fence, sentAt } = waiter.handedOver;
          return await this.granted(keys, storeKeys, token, fence, sentAt, options);
        }
        const left = wait - (performance.now() - started);
        if (left <= 0) throw storeError ?? notAcquired();
        const head = this.waitQueues.isHead(storeKeys, waiter);
        if (head && tryNow && !waiter.busy) {
          this.assertOpen();
          waiter.busy = true;
          let result: Lock | number;
          try {
            result = await attempt();
            storeError = undefined;
          } catch (error) {
            if (!(error instanceof LockStoreError) || this.closed) throw error;
            storeError = error;
            result = 0;
          } finally {
            waiter.busy = false;
          }
          if (result instanceof Lock) {
            acquired = true;
            return result;
          }
          remaining = result;
          attempts++;
        }
        // The head polls as a fallback (never later than the blocking lease ends); the rest wait their turn.
        const poll = head ? Math.min(retryDelay(attempts, left), remaining > 0 ? remaining + 1 : Infinity) : left;
        const reason = await waiter.sleep(Math.min(poll, left), signal);
        if (reason === 'aborted') signal!.throwIfAborted();
        if (reason === 'closed') this.assertOpen();
        tryNow = reason !== 'head-behind-holder';
      }
    } finally {
      this.waitQueues.leave(storeKeys, waiter, acquired);
    }
  }

  /** True when a decorator with onBusy 'skip' found the lock busy (logged at debug level). */
  private skips(request: LockRequest, error: unknown): boolean {
    if (request.options.onBusy !== 'skip' || !(error instanceof LockNotAcquiredError)) return false;
    this.logger.debug(LOCK_SKIPPED(error.keys, request.source ?? 'the call'));
    return true;
  }

  private reportLost(lease: Lease, error: LockLostError): void {
    this.logger.warn(error.message);
    const hook = this.options.onLockLost;
    if (!hook) return;
    try {
      hook({ key: lease.keys[0]!, keys: lease.keys, reason: error.reason, fence: lease.fence, error });
    } catch (hookError) {
      this.logger.error(LOST_HOOK_FAILED(lease.keys, (hookError as Error)?.message ?? String(hookError)));
    }
  }

  /** Wraps a won acquisition; one won in a race with an abort is released at once. */
  private async granted(
    keys: string[],
    storeKeys: string[],
    token: string,
    fence: number,
    sentAt: number,
    { ttl, autoRenew, minHold, maxHold, signal }: ResolvedAcquireOptions,
  ): Promise<Lock> {
    const lock = this.grant({ keys, storeKeys, token, fence, ttl, autoRenew, minHold, maxHold, sentAt });
    if (signal?.aborted) {
      // The caller is gone, so the lock must not outlive it.
      await lock.releaseQuietly();
      signal.throwIfAborted();
    }
    return lock;
  }

  private grant(grant: LockGrant): Lock {
    const lease = new Lease(grant, this.owner);
    this.held.add(lease);
    return new Lock(lease);
  }

  private assertOpen(): void {
    if (this.closed) throw LockStoreError.closed();
  }
}
