import { performance } from 'node:perf_hooks';
import type { LockStore } from '../interfaces/lock-store.interface';
import { abortableSleep } from '../utils/abortable-sleep';

interface Lease {
  token: string;
  /** Monotonic time (performance.now()) at which the lease ends. */
  expiresAt: number;
}

/**
 * Locks held in this process only, with the Redis store's semantics (atomic multi-key acquire,
 * fences, compare-and-act extend/release, leases that expire). For single-instance apps, demos
 * and tests; it shares nothing with other processes.
 */
export class MemoryStore implements LockStore {
  private readonly leases = new Map<string, Lease>();
  private readonly fences = new Map<string, number>();
  /** Size at which the next acquire sweeps expired leases, so abandoned keys do not pile up. */
  private sweepAt = 1024;

  async tryAcquire(keys: readonly string[], token: string, ttl: number): Promise<number | null> {
    const now = performance.now();
    if (keys.some((key) => this.live(key, now))) return null;
    const fence = Math.max(...keys.map((key) => this.fences.get(key) ?? 0)) + 1;
    for (const key of keys) {
      this.leases.set(key, { token, expiresAt: now + ttl });
      this.fences.set(key, fence);
    }
    if (this.leases.size >= this.sweepAt) this.sweep(now);
    return fence;
  }

  async extend(keys: readonly string[], token: string, ttl: number): Promise<boolean> {
    const now = performance.now();
    if (!keys.every((key) => this.live(key, now)?.token === token)) return false;
    for (const key of keys) this.leases.get(key)!.expiresAt = now + ttl;
    return true;
  }

  async release(keys: readonly string[], token: string): Promise<boolean> {
    const now = performance.now();
    let owned = 0;
    for (const key of keys) {
      if (this.live(key, now)?.token === token) {
        this.leases.delete(key);
        owned++;
      }
    }
    return owned === keys.length;
  }

  async isLocked(keys: readonly string[]): Promise<boolean> {
    const now = performance.now();
    return keys.some((key) => this.live(key, now) !== undefined);
  }

  waitForRelease(_keys: readonly string[], maxMs: number, signal?: AbortSignal): Promise<void> {
    return abortableSleep(maxMs, signal);
  }

  async close(): Promise<void> {
    this.leases.clear();
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
