import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Observable, finalize } from 'rxjs';
import { LockArgumentError, LockNotAcquiredError } from './errors';
import type { AcquireOptions } from './interfaces/acquire-options.interface';
import type { LockStore } from './interfaces/lock-store.interface';
import type { WithLockMetadata } from './interfaces/with-lock-metadata.interface';
import type { LockKey } from './keys/lock-key.interface';
import { toStoreKeys } from './keys/store-keys';
import { validateKeys } from './keys/validate-keys';
import type { Lease } from './lease';
import { Lock } from './lock';
import { LOCK_SKIPPED } from './lock.messages';
import { findHeldLock, runInLockScope } from './lock-scope';
import { type LockRequest, LockTaker } from './lock-taker';
import { lockServiceRegistry } from './lock-service.registry';
import { OutcomeLog } from './outcomes/outcome-log';
import { LOCK_STORE, RESOLVED_OPTIONS } from './redis-lock.tokens';
import { type CancelSignal, Cancellation, UNSUBSCRIBED } from './utils/cancellation';
import { describeValue } from './utils/describe-value';
import { UNNAMED_LOCK, decoratedLockName, lockName } from './telemetry/lock-name';
import {
  ACQUIRE_OPTIONS,
  type CheckedOptions,
  type ResolvedAcquireOptions,
  checkAcquireOptions,
  onBusyOf,
  resolveAcquireOptions,
} from './validation/validate-acquire-options';
import type { ResolvedModuleOptions } from './validation/validate-module-options';

/**
 * Distributed locks: acquire/tryAcquire hand out a Lock, withLock runs a function under one.
 * Also the one place that holds the acquire -> renew -> release life cycle: `run` for functions,
 * `acquire$` + `hold$` for Observables, which withLock, the @WithLock method wrapper and the
 * LockInterceptor all go through.
 */
@Injectable()
export class LockService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('RedisLock');
  private readonly taker: LockTaker;
  /** Decorator options over this module's defaults, resolved once per decorated method. */
  private readonly decorated = new WeakMap<WithLockMetadata, { options: ResolvedAcquireOptions; name: string }>();
  /** How this module's answered outcomes are logged (one outage warning per outage of its store). @internal */
  readonly outcomes = new OutcomeLog();

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModuleOptions,
    @Inject(LOCK_STORE) private readonly store: LockStore,
  ) {
    this.taker = new LockTaker(options, store, this.logger, async () => {
      lockServiceRegistry.unregister(this);
      await store.close();
    });
    lockServiceRegistry.register(this);
  }

  /** Acquires `key` (or all of several keys), waiting up to `wait` ms; rejects with LockNotAcquiredError. */
  acquire(key: LockKey, options?: AcquireOptions): Promise<Lock> {
    // Not async (one promise fewer per lock); bad input still rejects, never throws.
    let request: LockRequest;
    let checked: CheckedOptions;
    try {
      checked = checkAcquireOptions(options, 'options', ACQUIRE_OPTIONS);
      request = this.callRequest(key, checked);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.taker.take(request, { signal: checked.signal });
  }

  /** One attempt: the Lock, or null when the lock is busy. */
  async tryAcquire(key: LockKey, options?: Omit<AcquireOptions, 'wait'>): Promise<Lock | null> {
    const checked = checkAcquireOptions(options, 'options', ACQUIRE_OPTIONS);
    try {
      return await this.taker.take(this.callRequest(key, checked), { signal: checked.signal, wait: 0 });
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
    if (typeof fn !== 'function') throw new LockArgumentError('fn', `expected a function, got ${describeValue(fn)}`);
    const checked = checkAcquireOptions(options, 'options', ACQUIRE_OPTIONS);
    return this.run(this.callRequest(key, checked), fn, checked.signal);
  }

  /** True if any of the keys is held by anyone. */
  async isLocked(key: LockKey): Promise<boolean> {
    const storeKeys = toStoreKeys(this.options.keyPrefix, validateKeys(key));
    this.taker.assertOpen();
    return this.store.isLocked(storeKeys);
  }

  /**
   * The lock the current call chain holds (the innermost one; the innermost covering `key` if
   * given), or undefined. Works in any code called from withLock or a @WithLock method or route.
   */
  current(key?: string): Lock | undefined {
    return findHeldLock(key, (lock) => lock.lease.owner === this.taker.owner);
  }

  /** What the testing kit (nestjs-redis-lock/testing) reaches into. @internal */
  internals(): { readonly store: LockStore; readonly keyPrefix: string; readonly heldLeases: () => readonly Lease[] } {
    return { store: this.store, keyPrefix: this.options.keyPrefix, heldLeases: () => this.taker.held.list() };
  }

  /** A decorated method's request: its options over this module's defaults. @internal */
  decoratedRequest(keys: readonly string[], metadata: WithLockMetadata): LockRequest {
    let resolved = this.decorated.get(metadata);
    if (!resolved) {
      const options = resolveAcquireOptions(metadata.options, this.options, '@WithLock options');
      resolved = { options, name: decoratedLockName(metadata) };
      this.decorated.set(metadata, resolved);
    }
    const { options, name } = resolved;
    return { keys, options, onBusy: onBusyOf(metadata.options), source: metadata.method, name: lockName(name, keys, this.options.keyAsName) };
  }

  /**
   * The life cycle for functions: acquire, run inside the lock's scope, release. With onBusy
   * 'skip' (decorators only) a busy lock resolves undefined without running `work`. @internal
   */
  async run<T>(request: LockRequest, work: (lock: Lock) => T | Promise<T>, signal?: CancelSignal): Promise<T> {
    let lock: Lock;
    try {
      lock = await this.taker.take(request, { signal });
    } catch (error) {
      if (this.skips(request, error)) return undefined as T;
      throw error;
    }
    try {
      return await runInLockScope(lock, () => work(lock));
    } finally {
      await lock.releaseQuietly();
    }
  }

  /**
   * The life cycle for Observables, first half: acquires on subscribe and emits the Lock
   * (completes empty when onBusy 'skip' finds it busy). Unsubscribing while waiting cancels the
   * wait; `watchCancel` starts watching for another reason to stop waiting (a client that
   * disconnects) once waiting begins. @internal
   */
  acquire$(request: () => LockRequest, watchCancel?: (cancel: (reason: unknown) => void) => () => void): Observable<Lock> {
    return new Observable<Lock>((subscriber) => {
      let lockRequest: LockRequest;
      try {
        lockRequest = request();
      } catch (error) {
        subscriber.error(error);
        return;
      }
      const cancellation = new Cancellation(watchCancel);
      let settled = false;
      this.taker.take(lockRequest, { signal: cancellation }).then(
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
          if (this.skips(lockRequest, error)) subscriber.complete();
          else subscriber.error(error);
        },
      );
      return () => {
        if (!settled) cancellation.abort(UNSUBSCRIBED);
      };
    });
  }

  /**
   * The life cycle for Observables, second half: subscribes to `work` inside the lock's scope and
   * releases in finalize (complete, error or unsubscribe). `passThrough` is a @WithLock-wrapped
   * method the lock was already taken for: its wrapper lets one call through. @internal
   */
  hold$<T>(lock: Lock, work: () => Observable<T>, passThrough?: Function): Observable<T> {
    return new Observable<T>((subscriber) =>
      runInLockScope(lock, () => work().subscribe(subscriber), passThrough),
    ).pipe(finalize(() => void lock.releaseQuietly()));
  }

  /** Shutdown begins: locks already held stay held, for up to `shutdownGrace` ms (see ShutdownDrain). */
  beforeApplicationShutdown(): Promise<void> {
    return this.taker.drain.begin();
  }

  /** Shutdown, last step (this module's hooks run after every other module's): the store closes. */
  onApplicationShutdown(): Promise<void> {
    return this.taker.drain.close();
  }

  /** A LockService call's request: the checked options over this module's defaults. */
  private callRequest(key: LockKey, options: CheckedOptions): LockRequest {
    const keys = validateKeys(key);
    const name = lockName(options.name ?? UNNAMED_LOCK, keys, this.options.keyAsName);
    return { keys, options: resolveAcquireOptions(options, this.options, 'options'), onBusy: 'throw', name };
  }

  /** True when a decorator with onBusy 'skip' found the lock busy (logged at debug level). */
  private skips(request: LockRequest, error: unknown): boolean {
    if (request.onBusy !== 'skip' || !(error instanceof LockNotAcquiredError)) return false;
    this.logger.debug(LOCK_SKIPPED(error.keys, request.source ?? 'the call'));
    return true;
  }
}
