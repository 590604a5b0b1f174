import { performance } from 'node:perf_hooks';
import { FENCE_BLOCK } from '../../core/tuning';
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
import { MemoryShares } from './memory-shares';

interface Lease {
  token: string;
  /** The fence the lease was granted with. */
  fence: number;
  /** Monotonic time (performance.now()) at which the lease ends. */
  expiresAt: number;
}

/**
 * Locks held in this process only, with the Redis store's semantics (atomic multi-key acquire,
 * fences, compare-and-act extend/release, leases that expire, release notifications). For
 * single-instance apps, demos and tests; it shares nothing with other processes.
 */
export class MemoryStore implements LockStore {
  private readonly leases = new Map<string, Lease>();
  /**
   * One fence counter for the store (the Redis store keeps one per hash slot), with the same rule:
   * each grant's fence is max(past the last block, clock in µs), and it reserves FENCE_BLOCK
   * fences; this holds the top of the last block.
   */
  private counter = 0;
  private readonly listeners = new Map<string, Set<ReleaseListener>>();
  /** Count of leases at which the next acquire sweeps expired ones, so keys do not pile up. */
  private sweepAt = 1024;
  private readonly life = new StoreLifeCycle();
  /** Nobody else listens in this process' memory: it cannot tell, so it does not count listeners. */
  readonly capabilities: StoreCapabilities = {
    kinds: ['mutex', 'permit', 'read'],
    optimisticHandOver: true,
    countsListeners: false,
    releaseIds: true,
    announcementsPerRelease: 1,
  };

  /** Permits and readers; their fences come from the counter the mutex uses, a block of one each. */
  private readonly shares = new MemoryShares({
    mutexEnds: (key, now) => this.live(key, now)?.expiresAt,
    nextFence: (now) => this.nextFence(now, 1),
    notify: (key, releaseId) => this.notify(key, releaseId),
  });

  /** Always: the answer is in this process, ready the moment it is asked. */
  optimisticNow(): boolean {
    return true;
  }

  async tryAcquire(request: LeaseRequest): Promise<AcquireAttempt> {
    this.life.assertOpen();
    const now = performance.now();
    if (request.kind !== 'mutex') return this.shares.tryAcquire(request, now);
    const { keys, token, ttl } = request;
    const issued = this.issuedTo(keys, token, now);
    if (issued !== null) return { fence: issued };
    const busy = this.busy(keys, now);
    if (busy) return { fence: null, remaining: Math.ceil(busy.expiresAt - now) };
    for (const key of keys) {
      const sharesLeft = this.shares.blockWriter(key, now);
      if (sharesLeft !== undefined) return { fence: null, remaining: sharesLeft };
    }
    if (this.leases.size >= this.sweepAt) this.sweep(now);
    return { fence: this.take(keys, token, ttl, now) };
  }

  async extend(request: LeaseRequest): Promise<boolean> {
    this.life.assertOpen();
    const now = performance.now();
    if (request.kind !== 'mutex') return this.shares.extend(request, now);
    const { keys, token, ttl } = request;
    if (!keys.every((key) => this.live(key, now)?.token === token)) return false;
    for (const key of keys) this.leases.get(key)!.expiresAt = now + ttl;
    return true;
  }

  async release(request: ReleaseRequest): Promise<boolean> {
    this.life.assertOpen();
    if (request.kind !== 'mutex') return this.shares.release(request, performance.now());
    return this.letGo(request.keys, request.token, request.releaseId ?? '');
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

  async handOver(request: HandOverRequest): Promise<HandOverResult> {
    this.life.assertOpen();
    const now = performance.now();
    if (request.kind !== 'mutex') return this.shares.handOver(request, now);
    const { keys, from: fromToken, to: toToken, ttl, optimistic } = request;
    const issued = this.issuedTo(keys, toToken, now);
    if (issued !== null) return { owned: true, fence: issued };
    const owned = keys.every((key) => this.live(key, now)?.token === fromToken);
    if (optimistic) {
      const given = optimistic.expectedFence + 1;
      // It stands while the giver holds every key with the expected fence, inside the reserved block.
      const stands =
        owned && keys.every((key) => this.leases.get(key)!.fence === optimistic.expectedFence) && this.counter >= given;
      if (!stands) {
        // The receiver ran with this fence: no later holder may be issued it again.
        this.counter = Math.max(this.counter, given);
        this.letGo(keys, fromToken, '');
        return { owned: false, fence: null };
      }
      for (const key of keys) this.leases.set(key, { token: toToken, fence: given, expiresAt: now + ttl });
      return { owned, fence: given };
    }
    if (!owned && (this.busy(keys, now, fromToken) || keys.some((key) => this.shares.holds(key, now)))) {
      this.letGo(keys, fromToken, ''); // another owner holds a key: let go of ours as a release would
      return { owned, fence: null };
    }
    return { owned, fence: this.take(keys, toToken, ttl, now) };
  }

  async isLocked(keys: readonly string[]): Promise<boolean> {
    this.life.assertOpen();
    const now = performance.now();
    return this.busy(keys, now) !== undefined || keys.some((key) => this.shares.holds(key, now));
  }

  /** One holding per key held by a mutex, one per permit or reader of a shared key. */
  async inspect({ keys }: LockTarget): Promise<KeyHolding[]> {
    this.life.assertOpen();
    const now = performance.now();
    return keys.flatMap((key) => {
      const lease = this.live(key, now);
      if (!lease) return this.shares.holdings(key, now);
      return [
        { key, token: lease.token, kind: 'mutex', fence: lease.fence, expiresIn: Math.ceil(lease.expiresAt - now) },
      ];
    });
  }

  /** Frees the lease or every share of each key. The counter stays: the next fence is above the freed ones. */
  async forceRelease(request: ForceReleaseRequest): Promise<ForcedRelease[]> {
    const freed = await this.inspect(request);
    for (const key of new Set(freed.map(({ key }) => key))) {
      this.leases.delete(key);
      this.shares.drop(key);
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
    return this.leases.get(keys[0]!)!.fence;
  }

  /** The first live lease on one of `keys` not owned by `except`. */
  private busy(keys: readonly string[], now: number, except?: string): Lease | undefined {
    for (const key of keys) {
      const lease = this.live(key, now);
      if (lease && lease.token !== except) return lease;
    }
    return undefined;
  }

  /** As the Redis script: a fresh fence with a new block of FENCE_BLOCK. */
  private take(keys: readonly string[], token: string, ttl: number, now: number): number {
    const fence = this.nextFence(now, FENCE_BLOCK);
    for (const key of keys) this.leases.set(key, { token, fence, expiresAt: now + ttl });
    return fence;
  }

  /** Past the last reserved block and not below the clock (µs); reserves `block` fences from it. */
  private nextFence(now: number, block: number): number {
    // performance.timeOrigin + now never steps back within this process.
    const fence = Math.max(this.counter + 1, Math.floor((performance.timeOrigin + now) * 1000));
    this.counter = fence + block - 1;
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
    this.sweepAt = Math.max(1024, this.leases.size * 2);
  }
}
