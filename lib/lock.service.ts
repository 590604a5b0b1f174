import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Observable, finalize, mergeMap } from 'rxjs';
import { LockNotAcquiredError, LockStoreError } from './errors';
import type { AcquireOptions } from './interfaces/acquire-options.interface';
import type { LockKey } from './interfaces/lock-key.interface';
import type { LockStore } from './interfaces/lock-store.interface';
import { Lock, type LockGrant, type LockOwner } from './lock';
import { LOST_DETAIL } from './lock.messages';
import { runInLockScope } from './lock-scope';
import { lockServiceRegistry } from './lock-service.registry';
import { LOCK_STORE, RESOLVED_OPTIONS } from './redis-lock.constants';
import { toStoreKey } from './stores/store-keys';
import { Cancellation, UNSUBSCRIBED, followSignal } from './utils/cancellation';
import { createToken } from './utils/create-token';
import { retryDelay } from './utils/retry-delay';
import { type ResolvedAcquireOptions, validateAcquireOptions } from './validation/validate-acquire-options';
import { validateKeys } from './validation/validate-keys';
import { WaitQueues } from './waiting/wait-queues';
import { Waiter } from './waiting/waiter';
import type { ResolvedModuleOptions } from './validation/validate-module-options';

/** A validated lock request: the user's keys and the acquisition options. @internal */
export interface LockRequest {
  keys: string[];
  options: ResolvedAcquireOptions;
}

/**
 * Distributed locks: acquire/tryAcquire hand out a Lock, withLock runs a function under one.
 * Also the one place that runs the acquire -> renew -> release life cycle (`run`, `run$`), which
 * withLock, the @WithLock method wrapper and the LockInterceptor all go through.
 */
@Injectable()
export class LockService implements OnApplicationShutdown {
  private readonly logger = new Logger('RedisLock');
  private readonly held = new Set<Lock>();
  private readonly waitQueues: WaitQueues;
  private readonly owner: LockOwner;
  private closed = false;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModuleOptions,
    @Inject(LOCK_STORE) private readonly store: LockStore,
  ) {
    this.waitQueues = new WaitQueues(store);
    // Shared by every lock of this service: releases go through the wait queues (which may hand
    // the lock over), and settled locks leave the set released on shutdown.
    this.owner = {
      store,
      logger: this.logger,
      releaseLock: (storeKeys, token) => this.waitQueues.release(storeKeys, token),
      lockSettled: (lock) => this.held.delete(lock),
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
    return this.run(() => this.request(key, options), fn);
  }

  /** True if any of the keys is held by anyone. */
  async isLocked(key: LockKey): Promise<boolean> {
    const keys = validateKeys(key);
    this.assertOpen();
    return this.store.isLocked(keys.map((k) => toStoreKey(this.options.keyPrefix, k)));
  }

  /** Validates a user's key and options against this module's defaults. @internal */
  request(key: unknown, options: unknown): LockRequest {
    return { keys: validateKeys(key), options: validateAcquireOptions(options, this.options) };
  }

  /** The life cycle for functions: acquire, run inside the lock's scope, release. @internal */
  async run<T>(request: () => LockRequest, work: (lock: Lock) => T | Promise<T>): Promise<T> {
    const lock = await this.take(request());
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
          subscriber.error(mapError(error));
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

  /** Releases every lock this service still holds and closes the store. */
  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    lockServiceRegistry.unregister(this);
    this.waitQueues.closeAll();
    const held = [...this.held];
    for (const lock of held) lock.lose('shutdown', LOST_DETAIL.shutdown);
    await Promise.all(held.map((lock) => lock.releaseQuietly()));
    await this.store.close();
  }

  /**
   * Acquires, waiting if needed: one attempt at once (unless callers of this process already wait
   * for these keys: then it queues behind them), then in arrival order, woken by release
   * notifications, with a backoff poll as the fallback for expired leases and lost messages.
   */
  private async take({ keys, options }: LockRequest): Promise<Lock> {
    const { ttl, wait, signal } = options;
    signal?.throwIfAborted();
    this.assertOpen();
    const storeKeys = keys.map((key) => toStoreKey(this.options.keyPrefix, key));
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
        if (left <= 0) throw notAcquired();
        const head = this.waitQueues.isHead(storeKeys, waiter);
        if (head && tryNow && !waiter.busy) {
          this.assertOpen();
          waiter.busy = true;
          const result = await attempt().finally(() => (waiter.busy = false));
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

  /** Wraps a won acquisition; one won in a race with an abort is released at once. */
  private async granted(
    keys: string[],
    storeKeys: string[],
    token: string,
    fence: number,
    sentAt: number,
    { ttl, autoRenew, signal }: ResolvedAcquireOptions,
  ): Promise<Lock> {
    const lock = this.grant({ keys, storeKeys, token, fence, ttl, autoRenew, sentAt });
    if (signal?.aborted) {
      // The caller is gone, so the lock must not outlive it.
      await lock.releaseQuietly();
      signal.throwIfAborted();
    }
    return lock;
  }

  private grant(grant: LockGrant): Lock {
    const lock = new Lock(grant, this.owner);
    this.held.add(lock);
    return lock;
  }

  private assertOpen(): void {
    if (this.closed) throw LockStoreError.closed();
  }
}
