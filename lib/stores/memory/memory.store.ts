import { performance } from 'node:perf_hooks';
import { FENCE_RETENTION } from '../../core/tuning';
import type {
  AcquireAttempt,
  HandOverRequest,
  ForcedRelease,
  ForceReleaseRequest,
  HandOverResult,
  KeyHolding,
  LockTarget,
  LeaseRequest,
  LockStore,
  ReleaseListener,
  ReleaseRequest,
  StoreCapabilities,
} from '../lock-store.interface';
import { StoreLifeCycle } from '../store-life-cycle';

interface Lease {
  token: string;
  /** Monotonic time (performance.now()) at which the lease ends. */
  expiresAt: number;
}

/** A key's fence counter; like Redis', it expires FENCE_RETENTION after the key's last lease. */
interface FenceCounter {
  value: number;
  expiresAt: number;
}

/**
 * Locks held in this process only, with the Redis store's semantics (atomic multi-key acquire,
 * fences, compare-and-act extend/release, leases that expire, release notifications). For
 * single-instance apps, demos and tests; it shares nothing with other processes.
 */
export class MemoryStore implements LockStore {
  private readonly leases = new Map<string, Lease>();
  private readonly fences = new Map<string, FenceCounter>();
  private readonly listeners = new Map<string, Set<ReleaseListener>>();
  /** Count of fence counters at which the next acquire sweeps expired entries, so keys do not pile up. */
  private sweepAt = 1024;
  private readonly life = new StoreLifeCycle();
  /** Nobody else listens in this process' memory: it cannot tell, so it does not count listeners. */
  readonly capabilities: StoreCapabilities = { kinds: ['mutex'], optimisticHandOver: true, countsListeners: false, releaseIds: true, announcementsPerRelease: 1 };

  /** Always: the answer is in this process, ready the moment it is asked. */
  optimisticNow(): boolean {
    return true;
  }

  async tryAcquire({ keys, token, ttl }: LeaseRequest): Promise<AcquireAttempt> {
    this.life.assertOpen();
    const now = performance.now();
    const issued = this.issuedTo(keys, token, now);
    if (issued !== null) return { fence: issued };
    const busy = this.busy(keys, now);
    if (busy) return { fence: null, remaining: Math.ceil(busy.expiresAt - now) };
    if (this.fences.size >= this.sweepAt) this.sweep(now);
    return { fence: this.take(keys, token, ttl, now) };
  }

  async extend({ keys, token, ttl }: LeaseRequest): Promise<boolean> {
    this.life.assertOpen();
    const now = performance.now();
    if (!keys.every((key) => this.live(key, now)?.token === token)) return false;
    for (const key of keys) this.leases.get(key)!.expiresAt = now + ttl;
    return true;
  }

  async release({ keys, token, releaseId = '' }: ReleaseRequest): Promise<boolean> {
    this.life.assertOpen();
    return this.letGo(keys, token, releaseId);
  }

  private letGo(keys: readonly string[], token: string, releaseId: string): boolean {
    const now = performance.now();
    let owned = 0;
    for (const key of keys) {
      if (this.live(key, now)?.token === token) {
        this.leases.delete(key);
        owned++;
        this.notify(key, releaseId);
      }
    }
    return owned === keys.length;
  }

  async handOver({ keys, from: fromToken, to: toToken, ttl, optimistic }: HandOverRequest): Promise<HandOverResult> {
    this.life.assertOpen();
    const now = performance.now();
    const issued = this.issuedTo(keys, toToken, now);
    if (issued !== null) return { owned: true, fence: issued };
    const owned = keys.every((key) => this.live(key, now)?.token === fromToken);
    if (optimistic) {
      const { expectedFence } = optimistic;
      const moved = keys.some((key) => {
        const counter = this.fences.get(key);
        return counter !== undefined && counter.expiresAt > now && counter.value !== expectedFence;
      });
      if (!owned || moved) {
        // The receiver ran with expectedFence + 1: no later holder may be issued that fence again.
        for (const key of keys) {
          const counter = this.fences.get(key);
          if (!counter || counter.expiresAt <= now || counter.value < expectedFence + 1) {
            this.fences.set(key, { value: expectedFence + 1, expiresAt: now + ttl + FENCE_RETENTION });
          }
        }
        this.letGo(keys, fromToken, '');
        return { owned: false, fence: null };
      }
      return { owned, fence: this.take(keys, toToken, ttl, now, expectedFence + 1) };
    }
    if (!owned && this.busy(keys, now, fromToken)) {
      this.letGo(keys, fromToken, ''); // another owner holds a key: let go of ours as a release would
      return { owned, fence: null };
    }
    return { owned, fence: this.take(keys, toToken, ttl, now) };
  }

  async isLocked(keys: readonly string[]): Promise<boolean> {
    this.life.assertOpen();
    return this.busy(keys, performance.now()) !== undefined;
  }

  async inspect({ keys }: LockTarget): Promise<KeyHolding[]> {
    this.life.assertOpen();
    const now = performance.now();
    return keys.flatMap((key) => {
      const lease = this.live(key, now);
      if (!lease) return [];
      return [{ key, token: lease.token, fence: this.fences.get(key)?.value ?? 0, expiresIn: Math.ceil(lease.expiresAt - now) }];
    });
  }

  /** The fence counters stay: the next lease's fence is above the freed one. */
  async forceRelease(request: ForceReleaseRequest): Promise<ForcedRelease[]> {
    const freed = await this.inspect(request);
    for (const { key } of freed) {
      this.leases.delete(key);
      this.notify(key, request.releaseId ?? '');
    }
    return freed.map(({ key, token, fence }) => ({ key, token, fence }));
  }

  async onRelease(keys: readonly string[], listener: ReleaseListener): Promise<() => void> {
    this.life.assertOpen();
    for (const key of keys) {
      let set = this.listeners.get(key);
      if (!set) this.listeners.set(key, (set = new Set()));
      set.add(listener);
    }
    return () => {
      for (const key of keys) {
        const set = this.listeners.get(key);
        if (set?.delete(listener) && set.size === 0) this.listeners.delete(key);
      }
    };
  }

  close(): Promise<void> {
    return this.life.close(
      async () => undefined, // every call completes in the turn it was made
      () => {
        this.leases.clear();
        this.listeners.clear();
      },
    );
  }

  /** As the Redis scripts answer a re-run: the fence already issued when `token` holds every key. */
  private issuedTo(keys: readonly string[], token: string, now: number): number | null {
    if (!keys.every((key) => this.live(key, now)?.token === token)) return null;
    // A counter gone (a lease renewed past the retention): a new fence, as the script takes one.
    if (!keys.every((key) => this.fences.has(key))) return this.take(keys, token, this.leases.get(keys[0]!)!.expiresAt - now, now);
    return Math.max(...keys.map((key) => this.fences.get(key)!.value));
  }

  /** The first live lease on one of `keys` not owned by `except`. */
  private busy(keys: readonly string[], now: number, except?: string): Lease | undefined {
    for (const key of keys) {
      const lease = this.live(key, now);
      if (lease && lease.token !== except) return lease;
    }
    return undefined;
  }

  /**
   * As the Redis script: one above the highest live counter, or the clock (µs) if one is gone;
   * `given` (an optimistic hand-over's, checked by the caller) is taken as it is.
   */
  private take(keys: readonly string[], token: string, ttl: number, now: number, given?: number): number {
    let fence = given ?? 0;
    let missing = false;
    for (const key of keys) {
      if (given !== undefined) break;
      const counter = this.fences.get(key);
      if (counter && counter.expiresAt > now) fence = Math.max(fence, counter.value + 1);
      else missing = true;
    }
    // performance.timeOrigin + now never steps back within this process.
    if (missing) fence = Math.max(fence, Math.floor((performance.timeOrigin + now) * 1000));
    for (const key of keys) {
      this.leases.set(key, { token, expiresAt: now + ttl });
      this.fences.set(key, { value: fence, expiresAt: now + ttl + FENCE_RETENTION });
    }
    return fence;
  }

  private notify(key: string, releaseId: string): void {
    const set = this.listeners.get(key);
    // Like a pub/sub message: delivered after the releaser's call returns, never inside it.
    if (set) for (const listener of [...set]) queueMicrotask(() => listener(releaseId));
  }

  /** The lease on `key` if it has not expired (an expired one is dropped on sight). */
  private live(key: string, now: number): Lease | undefined {
    const lease = this.leases.get(key);
    if (lease && lease.expiresAt <= now) {
      this.leases.delete(key);
      return undefined;
    }
    return lease;
  }

  private sweep(now: number): void {
    for (const key of this.leases.keys()) this.live(key, now);
    for (const [key, counter] of this.fences) if (counter.expiresAt <= now) this.fences.delete(key);
    this.sweepAt = Math.max(1024, this.fences.size * 2);
  }
}
