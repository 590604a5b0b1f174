import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { LockArgumentError, LockNotAcquiredError } from '../core/errors';
import type { AcquireOptions } from '../core/options/acquire-options.interface';
import type { LockStore } from '../stores/lock-store.interface';
import type { WithLockMetadata } from './decorators/with-lock-metadata.interface';
import type { LockKey } from './keys/lock-key.interface';
import { toStoreKeys } from '../core/keys/store-keys';
import { validateKeys } from '../core/keys/validate-keys';
import type { Lease } from '../core/lease/lease';
import { Lock } from '../core/lock';
import { findHeldLock } from '../core/scope/lock-scope';
import { type LockRequest, Locker } from '../core/locker';
import { acquire$, hold$ } from '../core/observable-life-cycle';
import { InstanceRegistry } from './instance-registry';
import { OutcomeLog } from './outcomes/outcome-log';
import { LOCK_STORE, RESOLVED_OPTIONS } from './redis-lock.tokens';
import type { CancelSignal } from '../core/utils/cancellation';
import { describeValue } from '../core/utils/describe-value';
import { NOT_LEADER_SKIPPED } from '../core/lock.messages';
import { UNNAMED_LOCK, lockName } from '../core/telemetry/lock-name';
import { decoratedLockName } from './decorators/decorated-lock-name';
import {
  ACQUIRE_OPTIONS,
  type CheckedOptions,
  type ResolvedAcquireOptions,
  checkAcquireOptions,
  onBusyOf,
  resolveAcquireOptions,
} from '../core/options/validate-acquire-options';
import type { ResolvedModuleOptions } from './options/validate-module-options';
import { type LockInspection, forceReleaseLock, inspectLock } from '../core/operations/lock-inspection';
import { Campaigns } from '../core/leadership/campaigns';
import type { CampaignOptions, HeldLeadership } from '../core/leadership/campaign-options.interface';
import type { Leadership } from '../core/leadership/leadership';
import { leadershipRequest } from '../core/leadership/leadership-request';

/**
 * Distributed locks: acquire/tryAcquire hand out a Lock, withLock runs a function under one.
 * A Nest facade over the lock engine (core/Locker): it checks arguments, resolves options over
 * the module's defaults, and ties the engine's drain and store to the application's shutdown.
 */
@Injectable()
export class LockService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('RedisLock');
  private readonly locker: Locker;
  private readonly campaigns: Campaigns;
  /** Decorator options over this module's defaults, resolved once per decorated method. */
  private readonly decorated = new WeakMap<WithLockMetadata, { options: ResolvedAcquireOptions; name: string }>();
  /** How this module's answered outcomes are logged (one outage warning per outage of its store). @internal */
  readonly outcomes = new OutcomeLog();

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedModuleOptions,
    @Inject(LOCK_STORE) private readonly store: LockStore,
  ) {
    this.locker = new Locker(options, store, this.logger, async () => {
      lockServiceRegistry.unregister(this);
      await store.close();
    });
    this.campaigns = new Campaigns(this.locker, this.logger);
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
    return this.locker.take(request, { signal: checked.signal });
  }

  /** One attempt: the Lock, or null when the lock is busy. */
  async tryAcquire(key: LockKey, options?: Omit<AcquireOptions, 'wait'>): Promise<Lock | null> {
    const checked = checkAcquireOptions(options, 'options', ACQUIRE_OPTIONS);
    try {
      return await this.locker.take(this.callRequest(key, checked), { signal: checked.signal, wait: 0 });
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
    const storeKeys = this.storeKeysOf(key);
    this.locker.assertOpen();
    return this.store.isLocked(storeKeys);
  }

  /**
   * Who holds `key` now: `{ held, holders: [{ holder, fence, expiresIn }] }`, the holder named by
   * its `holderId`. One read per key; nothing is written.
   */
  async inspect(key: LockKey): Promise<LockInspection> {
    const storeKeys = this.storeKeysOf(key);
    this.locker.assertOpen();
    return inspectLock(this.store, 'mutex', storeKeys);
  }

  /**
   * An operator's tool: frees `key` whoever holds it (a stuck holder), at once, and wakes its
   * waiters. The next holder's fence is above the old one's; the old holder learns at its next
   * renewal (LockLostError, reason 'not-held') and its release never touches the new holder.
   * Logged as a warning naming the old holder. Resolves true when it freed something.
   */
  async forceRelease(key: LockKey): Promise<boolean> {
    const keys = validateKeys(key);
    const storeKeys = toStoreKeys(this.options.keyPrefix, keys);
    this.locker.assertOpen();
    return forceReleaseLock(this.store, 'mutex', keys, storeKeys, this.logger);
  }

  /**
   * Campaigns in the background for the role `name` (a lock on `leader:<name>`), and returns its
   * Leadership at once: `isLeader`, `term`, `signal`, `elected()`, `resign()`. A leader that loses
   * its lock steps down at once and campaigns again; on application shutdown it resigns.
   */
  campaign(name: string, options?: CampaignOptions): Leadership {
    return this.campaigns.start(name, leadershipRequest(name, options, this.options.ttl));
  }

  /** The campaign @LeaderOnly methods of `name` share, started on first ask. @internal */
  sharedLeadership(name: string, options?: CampaignOptions): Leadership {
    return this.campaigns.shared(name, () => leadershipRequest(name, options, this.options.ttl));
  }

  /** A @LeaderOnly call: runs while this replica leads `name`, else answers undefined (logged at debug). @internal */
  runAsLeader<T>(name: string, options: CampaignOptions | undefined, method: string, call: () => T): T | undefined {
    if (this.sharedLeadership(name, options).isLeader) return call();
    this.logger.debug(NOT_LEADER_SKIPPED(method, name));
    return undefined;
  }

  /** The roles this replica leads now. */
  leaderships(): HeldLeadership[] {
    return this.campaigns.leading();
  }

  /**
   * The lock the current call chain holds (the innermost one; the innermost covering `key` if
   * given), or undefined. Works in any code called from withLock or a @WithLock method or route.
   */
  current(key?: string): Lock | undefined {
    return findHeldLock(key, (lock) => lock.lease.context === this.locker.leaseContext);
  }

  /** What the testing kit (nestjs-redis-lock/testing) reaches into. @internal */
  internals(): { readonly store: LockStore; readonly keyPrefix: string; readonly heldLeases: () => readonly Lease[] } {
    return { store: this.store, keyPrefix: this.options.keyPrefix, heldLeases: () => this.locker.held.list() };
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
    return {
      keys,
      options,
      onBusy: onBusyOf(metadata.options),
      source: metadata.method,
      name: lockName(name, keys, this.options.keyAsName),
    };
  }

  /** The life cycle for functions (see Locker.run). @internal */
  run<T>(request: LockRequest, work: (lock: Lock) => T | Promise<T>, signal?: CancelSignal): Promise<T> {
    return this.locker.run(request, work, signal);
  }

  /** The life cycle for Observables, first half (see observable-life-cycle.ts). @internal */
  acquire$(
    request: () => LockRequest,
    watchCancel?: (cancel: (reason: unknown) => void) => () => void,
  ): Observable<Lock> {
    return acquire$(this.locker, request, watchCancel);
  }

  /** The life cycle for Observables, second half (see observable-life-cycle.ts). @internal */
  hold$<T>(lock: Lock, work: () => Observable<T>, passThrough?: Function): Observable<T> {
    return hold$(lock, work, passThrough);
  }

  /** Shutdown begins: locks already held stay held, for up to `shutdownGrace` ms (see ShutdownDrain). */
  async beforeApplicationShutdown(): Promise<void> {
    // Leaders resign first: another replica takes over within a release notification.
    await this.campaigns.resignAll();
    await this.locker.drain.begin();
  }

  /** Shutdown, last step (this module's hooks run after every other module's): the store closes. */
  onApplicationShutdown(): Promise<void> {
    return this.locker.drain.close();
  }

  private storeKeysOf(key: LockKey): string[] {
    return toStoreKeys(this.options.keyPrefix, validateKeys(key));
  }

  /** A LockService call's request: the checked options over this module's defaults. */
  private callRequest(key: LockKey, options: CheckedOptions): LockRequest {
    const keys = validateKeys(key);
    const name = lockName(options.name ?? UNNAMED_LOCK, keys, this.options.keyAsName);
    return { keys, options: resolveAcquireOptions(options, this.options, 'options'), onBusy: 'throw', name };
  }
}

/** Which LockService a @WithLock-wrapped instance belongs to (see InstanceRegistry). @internal */
export const lockServiceRegistry = new InstanceRegistry<LockService>();
