import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Observable, finalize, mergeMap } from 'rxjs';
import { LockArgumentError, type LockLostError, LockNotAcquiredError, LockStoreError } from './errors';
import type { AcquireOptions } from './interfaces/acquire-options.interface';
import type { LockKey } from './interfaces/lock-key.interface';
import type { LockStore } from './interfaces/lock-store.interface';
import { Lease, type LeaseOwner } from './lease';
import { Lock } from './lock';
import { LOCK_SKIPPED, LOST_HOOK_FAILED } from './lock.messages';
import { findHeldLock, inLockScope, runInLockScope, runOutsideLockScope } from './lock-scope';
import { HeldLeases } from './held-leases';
import { reenter } from './reentrancy';
import { lockServiceRegistry } from './lock-service.registry';
import { LOCK_STORE, RESOLVED_OPTIONS } from './redis-lock.constants';
import { toStoreKey } from './stores/store-keys';
import { Cancellation, UNSUBSCRIBED, followSignal } from './utils/cancellation';
import { createToken } from './utils/create-token';
import {
  DECORATOR_OPTIONS,
  type ResolvedAcquireOptions,
  validateAcquireOptions,
} from './validation/validate-acquire-options';
import { describe, validateKeys } from './validation/validate-keys';
import { Acquisition, type AcquisitionHost, type Won } from './waiting/acquisition';
import { WaitQueues } from './waiting/wait-queues';
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
  private readonly held = new HeldLeases(this.logger);
  private readonly owner: LeaseOwner;
  /** What the waiting loop needs of this service. */
  private readonly host: AcquisitionHost;
  /** running -> draining (shutdown began: holders keep their locks) -> closed (the store closes). */
  private phase: 'running' | 'draining' | 'closed' = 'running';
  /** Settles when the shutdown grace period has ended and the holders left then were let go of. */
  private graceEnded: Promise<void> | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModuleOptions,
    @Inject(LOCK_STORE) private readonly store: LockStore,
  ) {
    const waitQueues = new WaitQueues(store);
    this.host = { store, waitQueues, assertOpen: () => this.assertOpen() };
    // Shared by every lease of this service: releases go through the wait queues (which may hand
    // the lock over), settled leases leave the held set, losses are reported.
    this.owner = {
      store,
      logger: this.logger,
      releaseLock: (storeKeys, token) => waitQueues.release(storeKeys, token),
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
    const storeKeys = validateKeys(key).map((k) => toStoreKey(this.options.keyPrefix, k));
    this.assertOpen();
    return this.store.isLocked(storeKeys);
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
   * Shutdown begins: the service drains. Locks already held stay held (and renewed) for up to
   * `shutdownGrace` ms so the work under them can finish; acquisitions keep working, since the
   * HTTP server and queue workers still finish their work after this hook. When the grace period
   * ends, the holders left lose their locks (signal aborted, reason 'shutdown') and release them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.phase !== 'running') return;
    this.phase = 'draining';
    this.graceEnded = new Promise<void>((resolve) => {
      const timer = runOutsideLockScope(() =>
        setTimeout(() => void this.held.loseAll().then(resolve), this.options.shutdownGrace),
      );
      timer.unref();
      this.graceTimer = timer;
    });
    if (this.options.shutdownGrace === 0) await this.graceEnded;
  }

  /**
   * Shutdown, last step (RedisLockModule's hooks run after every other module's): waits for the
   * holders to finish, up to the end of the grace period; then fails callers still waiting, lets
   * go of every lock left and closes the store, which lets calls in flight finish first.
   */
  onApplicationShutdown(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  private async close(): Promise<void> {
    await this.beforeApplicationShutdown();
    await Promise.race([this.held.drained(), this.graceEnded]);
    clearTimeout(this.graceTimer);
    this.phase = 'closed';
    lockServiceRegistry.unregister(this);
    this.host.waitQueues.closeAll();
    await this.held.loseAll();
    await this.store.close();
  }

  /** Acquires, waiting if needed (see Acquisition), or re-enters a lock the call chain holds. */
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
    const won = await new Acquisition(this.host, { keys, storeKeys, token, ttl, wait, signal }).run();
    return this.granted(keys, storeKeys, token, won, options);
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

  /**
   * Wraps a won acquisition. One won in a race with an abort is released at once, and so is one
   * that arrives after the service closed (its caller is told the store is closed).
   */
  private async granted(
    keys: string[],
    storeKeys: string[],
    token: string,
    { fence, sentAt }: Won,
    { ttl, autoRenew, minHold, maxHold, signal }: ResolvedAcquireOptions,
  ): Promise<Lock> {
    const lease = new Lease({ keys, storeKeys, token, fence, ttl, autoRenew, minHold, maxHold, sentAt }, this.owner);
    const lock = new Lock(lease);
    if (this.phase === 'closed') {
      await lock.releaseQuietly();
      throw LockStoreError.closed();
    }
    this.held.add(lease);
    if (signal?.aborted) {
      // The caller is gone, so the lock must not outlive it.
      await lock.releaseQuietly();
      signal.throwIfAborted();
    }
    return lock;
  }

  private assertOpen(): void {
    if (this.phase === 'closed') throw LockStoreError.closed();
  }
}
