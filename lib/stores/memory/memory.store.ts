import { performance } from 'node:perf_hooks';
import { LockStoreError } from '../../core/errors';
import { FENCE_BLOCK } from '../../core/tuning';
import type { AcquireAttempt, HandOverResult, LockStore } from '../lock-store.interface';

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
   * each grant's fence is max(counter + 1, clock in µs), and it reserves FENCE_BLOCK fences.
   */
  private counter = 0;
  private readonly listeners = new Map<string, Set<() => void>>();
  /** Count of leases at which the next acquire sweeps expired ones, so keys do not pile up. */
  private sweepAt = 1024;
  private closed = false;

  async tryAcquire(keys: readonly string[], token: string, ttl: number): Promise<AcquireAttempt> {
    this.assertOpen();
    const now = performance.now();
    const issued = this.issuedTo(keys, token, now);
    if (issued !== null) return { fence: issued };
    const busy = this.busy(keys, now);
    if (busy) return { fence: null, remaining: Math.ceil(busy.expiresAt - now) };
    if (this.leases.size >= this.sweepAt) this.sweep(now);
    return { fence: this.take(keys, token, ttl, now) };
  }

  async extend(keys: readonly string[], token: string, ttl: number): Promise<boolean> {
    this.assertOpen();
    const now = performance.now();
    if (!keys.every((key) => this.live(key, now)?.token === token)) return false;
    for (const key of keys) this.leases.get(key)!.expiresAt = now + ttl;
    return true;
  }

  async release(keys: readonly string[], token: string): Promise<boolean> {
    this.assertOpen();
    const now = performance.now();
    let owned = 0;
    for (const key of keys) {
      if (this.live(key, now)?.token === token) {
        this.leases.delete(key);
        owned++;
        this.notify(key);
      }
    }
    return owned === keys.length;
  }

  async handOver(
    keys: readonly string[],
    fromToken: string,
    toToken: string,
    ttl: number,
    expectedFence?: number,
  ): Promise<HandOverResult> {
    this.assertOpen();
    const now = performance.now();
    const issued = this.issuedTo(keys, toToken, now);
    if (issued !== null) return { owned: true, fence: issued };
    const owned = keys.every((key) => this.live(key, now)?.token === fromToken);
    if (expectedFence !== undefined) {
      const given = expectedFence + 1;
      const stands = owned && keys.every((key) => this.leases.get(key)!.fence === expectedFence) && this.counter >= given;
      if (!stands) {
        // The receiver ran with this fence: no later holder may be issued it again.
        this.counter = Math.max(this.counter, given);
        await this.release(keys, fromToken);
        return { owned: false, fence: null };
      }
      for (const key of keys) this.leases.set(key, { token: toToken, fence: given, expiresAt: now + ttl });
      return { owned, fence: given };
    }
    if (!owned && this.busy(keys, now, fromToken)) {
      await this.release(keys, fromToken); // another owner holds a key: let go of ours as a release would
      return { owned, fence: null };
    }
    return { owned, fence: this.take(keys, toToken, ttl, now) };
  }

  async isLocked(keys: readonly string[]): Promise<boolean> {
    this.assertOpen();
    return this.busy(keys, performance.now()) !== undefined;
  }

  async onRelease(keys: readonly string[], listener: () => void): Promise<() => void> {
    this.assertOpen();
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

  async close(): Promise<void> {
    this.closed = true;
    this.leases.clear();
    this.listeners.clear();
  }

  /** As the Redis scripts answer a re-run: the fence already issued when `token` holds every key. */
  private issuedTo(keys: readonly string[], token: string, now: number): number | null {
    if (!keys.every((key) => this.live(key, now)?.token === token)) return null;
    return this.leases.get(keys[0]!)!.fence;
  }

  private assertOpen(): void {
    if (this.closed) throw LockStoreError.closed();
  }

  /** The first live lease on one of `keys` not owned by `except`. */
  private busy(keys: readonly string[], now: number, except?: string): Lease | undefined {
    for (const key of keys) {
      const lease = this.live(key, now);
      if (lease && lease.token !== except) return lease;
    }
    return undefined;
  }

  /** As the Redis script: max(counter + 1, clock in µs), reserving FENCE_BLOCK fences. */
  private take(keys: readonly string[], token: string, ttl: number, now: number): number {
    // performance.timeOrigin + now never steps back within this process.
    const fence = Math.max(this.counter + 1, Math.floor((performance.timeOrigin + now) * 1000));
    this.counter = fence + FENCE_BLOCK - 1;
    for (const key of keys) this.leases.set(key, { token, fence, expiresAt: now + ttl });
    return fence;
  }

  private notify(key: string): void {
    const set = this.listeners.get(key);
    // Like a pub/sub message: delivered after the releaser's call returns, never inside it.
    if (set) for (const listener of [...set]) queueMicrotask(listener);
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
