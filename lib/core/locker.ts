import type { LockLogger } from './lock-logger';
import { type LockLostError, LockNotAcquiredError, LockStoreError } from './errors';
import { HeldLeases } from './shutdown/held-leases';
import type { LockStore } from '../stores/lock-store.interface';
import { toStoreKeys } from './keys/store-keys';
import { Lease } from './lease/lease';
import { LeaseTimers } from './lease/lease-timers';
import type { LeaseContext, LockGrant } from './lease/lease-context';
import { Lock } from './lock';
import { LOCK_SKIPPED, LOST_HOOK_FAILED } from './lock.messages';
import { inLockScope, runInLockScope, runOutsideLockScope } from './scope/lock-scope';
import { reenter } from './scope/reentrancy';
import { ShutdownDrain } from './shutdown/shutdown-drain';
import type { CancelSignal } from './utils/cancellation';
import { createToken } from './utils/create-token';
import { holderSuffix } from './holder/holder-id';
import type { ResolvedAcquireOptions } from './options/validate-acquire-options';
import type { LockerOptions } from './locker-options';
import { Acquisition, type AcquisitionHost } from './waiting/acquisition';
import type { Grant } from './waiting/grant';
import { WaitQueues } from './waiting/wait-queues';
import { acquireOutcome } from './telemetry/acquire-outcome';
import type { AcquireTrace } from './telemetry/lock-telemetry';
import { checkKindFits } from './options/lock-kind-options';
import { loadTelemetry } from './telemetry/load-telemetry';

/** A validated lock request: the user's keys and the acquisition's options. @internal */
export interface LockRequest {
  readonly keys: readonly string[];
  readonly options: ResolvedAcquireOptions;
  /** What a busy lock does to a decorated call ('throw' for LockService calls). */
  readonly onBusy: 'throw' | 'skip';
  /** The decorated method (`Class.method`) asking, for log lines; absent for LockService calls. */
  readonly source?: string;
  /** The lock's low-cardinality name in telemetry (see telemetry/lock-name.ts). */
  readonly name: string;
}

/** Per-call values of an acquisition, passed along beside the request. @internal */
export interface TakeOptions {
  readonly signal?: CancelSignal;
  /** Overrides the request's wait (tryAcquire: one attempt). */
  readonly wait?: number;
}

/**
 * The lock engine of one LockService: re-entry into what the call chain holds, an Acquisition
 * for the rest, a Lease for what was won, and the set of leases held, which shutdown drains.
 * `run` (functions) and `acquire$` + `hold$` (Observables, in observable-life-cycle.ts) are the
 * one acquire -> renew -> release life cycle that withLock, the @WithLock method wrapper and the
 * LockInterceptor all go through. @internal
 */
export class Locker {
  /** Shared by every lease taken here. */
  readonly leaseContext: LeaseContext<Lease>;
  readonly drain: ShutdownDrain;
  readonly held: HeldLeases;
  private readonly telemetry = loadTelemetry();
  /** Appended to every token: the holder's id, so inspect can name it without a write of its own. */
  private readonly tokenSuffix: string;
  /** What the waiting loop needs. */
  private readonly host: AcquisitionHost;

  constructor(
    private readonly options: LockerOptions,
    store: LockStore,
    private readonly logger: LockLogger,
    closeStore: () => Promise<void>,
  ) {
    this.tokenSuffix = holderSuffix(options.holderId);
    const waitQueues = new WaitQueues(store);
    const held = (this.held = new HeldLeases(logger));
    this.host = { store, waitQueues, assertOpen: () => this.assertOpen() };
    // Releases go through the wait queues (which may hand the lock over), settled leases leave the
    // held set, losses are reported.
    this.leaseContext = {
      store,
      logger,
      timers: new LeaseTimers(runOutsideLockScope),
      releaseLock: (releasing) => waitQueues.releaseOrHandOver(releasing),
      leaseSettled: (lease) => {
        held.delete(lease);
        this.telemetry.holdEnded(lease);
      },
      leaseLost: (lease, error) => this.reportLost(lease, error),
    };
    this.drain = new ShutdownDrain(options.shutdownGrace, held, waitQueues, closeStore);
  }

  /** Acquires, waiting if needed (see Acquisition), or re-enters what the call chain holds. */
  take(request: LockRequest, options: TakeOptions): Promise<Lock> {
    // Not async while untraced: takeLock's promise is the caller's, not adopted by another. A
    // telemetry SDK that throws still rejects, as an async take would.
    let trace: AcquireTrace | undefined;
    try {
      trace = this.telemetry.acquireStarted(request.name, request.options.kind);
    } catch (error) {
      return Promise.reject(error);
    }
    return trace ? this.traced(request, options, trace) : this.takeLock(request, options);
  }

  private async traced(request: LockRequest, options: TakeOptions, trace: AcquireTrace): Promise<Lock> {
    try {
      const lock = await this.takeLock(request, options);
      trace.end('acquired', { fence: lock.fence, reentered: lock.reentered });
      return lock;
    } catch (error) {
      trace.end(acquireOutcome(error, request.onBusy, options.signal), {});
      throw error;
    }
  }

  /**
   * The life cycle for functions: acquire, run inside the lock's scope, release. With onBusy
   * 'skip' (decorators only) a busy lock resolves undefined without running `work`.
   */
  async run<T>(request: LockRequest, work: (lock: Lock) => T | Promise<T>, signal?: CancelSignal): Promise<T> {
    let lock: Lock;
    try {
      lock = await this.take(request, { signal });
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

  /** True when a decorator with onBusy 'skip' found the lock busy (logged at debug level). */
  skips(request: LockRequest, error: unknown): boolean {
    if (request.onBusy !== 'skip' || !(error instanceof LockNotAcquiredError)) return false;
    this.logger.debug?.(LOCK_SKIPPED(error.keys, request.source ?? 'the call'));
    return true;
  }

  private async takeLock(
    { keys, options, name }: LockRequest,
    { signal, wait = options.wait }: TakeOptions,
  ): Promise<Lock> {
    signal?.throwIfAborted();
    this.assertOpen();
    const storeKeys = toStoreKeys(this.options.keyPrefix, keys);
    checkKindFits(options.kind, keys.length, this.host.store.capabilities.kinds);
    const reentry = inLockScope() ? reenter(this.leaseContext, keys, storeKeys, options.kind) : undefined;
    if (reentry?.missingKeys.length === 0) {
      const [innermost, ...others] = reentry.covering;
      return new Lock(innermost!, true, others, others.length > 0 ? keys : innermost!.keys);
    }
    // Objects below are written out field by field: spreading them took several µs per lock (V8's
    // generic clone path), a measurable share of an uncontended acquire + release.
    const takeKeys = reentry ? reentry.missingKeys : keys;
    const takeStoreKeys = reentry ? reentry.missingStoreKeys : storeKeys;
    const token = createToken() + this.tokenSuffix;
    let won: Grant;
    try {
      // Passed to the store as it is (no second object per attempt).
      const request = {
        kind: options.kind,
        keys: takeStoreKeys,
        userKeys: takeKeys,
        token,
        ttl: options.ttl,
        limit: options.limit,
        wait,
        signal,
      };
      won = await new Acquisition(this.host, request).run();
    } catch (error) {
      if (reentry) await new Lock(reentry.covering[0]!, true, reentry.covering.slice(1)).releaseQuietly();
      throw error;
    }
    const grant: LockGrant = {
      kind: options.kind,
      keys: takeKeys,
      storeKeys: takeStoreKeys,
      token: won.token,
      fence: won.fence,
      sentAt: won.sentAt,
      provisional: won.provisional,
      handOverRun: won.handOverRun,
      ttl: options.ttl,
      autoRenew: options.autoRenew,
      minHold: options.minHold,
      maxHold: options.maxHold,
      name,
    };
    const lease = new Lease(grant, this.leaseContext);
    return this.granted(new Lock(lease, false, reentry?.covering, reentry ? keys : lease.keys), signal);
  }

  /**
   * A won acquisition, handed out. One won in a race with an abort is released at once, and so
   * is one that arrives after the drain ended (its caller is told the store is closed).
   */
  private granted(lock: Lock, signal: CancelSignal | undefined): Lock | Promise<Lock> {
    if (!this.drain.granting) return lock.releaseQuietly().then(() => Promise.reject(LockStoreError.closed()));
    this.held.add(lock.lease);
    this.telemetry.holdStarted(lock.lease);
    // The caller is gone, so the lock must not outlive it.
    if (signal?.aborted) {
      return lock.releaseQuietly().then(() => {
        signal.throwIfAborted();
        return lock;
      });
    }
    // The common case without a promise of its own: takeLock's resolves with the lock.
    return lock;
  }

  private reportLost(lease: Lease, error: LockLostError): void {
    this.telemetry.lost(lease, error.reason);
    this.logger.warn(error.message);
    const hook = this.options.onLockLost;
    if (!hook) return;
    try {
      hook({ key: lease.keys[0]!, keys: lease.keys, reason: error.reason, fence: lease.fence, error });
    } catch (hookError) {
      this.logger.error(LOST_HOOK_FAILED(lease.keys, (hookError as Error)?.message ?? String(hookError)));
    }
  }

  assertOpen(): void {
    if (!this.drain.granting) throw LockStoreError.closed();
  }
}
