import { performance } from 'node:perf_hooks';
import { LockStoreError } from '../errors';

interface Pending {
  readonly operation: string;
  readonly deadline: number;
  readonly reject: (error: unknown) => void;
}

/**
 * Bounds every store call: one that has not settled `timeout` ms after it started fails with
 * LockStoreError (ioredis' offline queue would otherwise hold it until Redis is back). One
 * interval per store checks the calls in flight, instead of a timer per call: the hot path
 * allocates no timer, and a call fails within `timeout` plus a tenth of it.
 */
export class BoundedCalls {
  private readonly pending = new Set<Pending>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly resolution: number;

  constructor(private readonly timeout: number) {
    this.resolution = Math.min(250, Math.max(5, Math.floor(timeout / 10)));
  }

  /** Runs `call`; any failure becomes a LockStoreError, and so does taking longer than the bound. */
  run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { operation, deadline: performance.now() + this.timeout, reject };
      this.pending.add(entry);
      this.sweeper ??= setInterval(() => this.sweep(), this.resolution);
      let running: Promise<T>;
      try {
        running = call();
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (value) => {
          this.pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(entry);
          reject(error instanceof LockStoreError ? error : LockStoreError.failed(operation, error));
        },
      );
    });
  }

  /** Stops the interval (the store is closing). */
  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = performance.now();
    for (const entry of this.pending) {
      if (entry.deadline > now) continue;
      this.pending.delete(entry);
      entry.reject(LockStoreError.timeout(entry.operation, this.timeout));
    }
    // Idle: stop ticking until the next call.
    if (this.pending.size === 0) this.close();
  }
}
