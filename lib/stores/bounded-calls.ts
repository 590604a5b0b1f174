import { performance } from 'node:perf_hooks';
import { LockStoreError } from '../errors';
import { runOutsideLockScope } from '../lock-scope';
import { QUEUED_REPLY } from './transaction-reply';

interface Pending {
  readonly operation: string;
  readonly deadline: number;
  readonly reject: (error: unknown) => void;
  /** The client's own promise of the call, which may settle after the bound gave up on it. */
  running: Promise<unknown> | undefined;
}

/** The client's own promise of each call that timed out, by the LockStoreError it failed with. */
const gaveUpOn = new WeakMap<object, Promise<unknown>>();

/**
 * When `error` is a call's timeout: the call itself, which the client may still run (see
 * LateGrants) and which then resolves.
 */
export function lateCallOf(error: unknown): Promise<unknown> | undefined {
  return typeof error === 'object' && error !== null ? gaveUpOn.get(error) : undefined;
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
  /** Callers of settled() waiting for the last call in flight to end. */
  private readonly idle: (() => void)[] = [];

  constructor(private readonly timeout: number) {
    this.resolution = Math.min(250, Math.max(5, Math.floor(timeout / 10)));
  }

  /** Calls started and not yet settled. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Runs `call`; any failure becomes a LockStoreError, and so does taking longer than the bound or
   * a reply of QUEUED (the command sat in a user's transaction and did not run).
   */
  run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { operation, deadline: performance.now() + this.timeout, reject, running: undefined };
      this.pending.add(entry);
      // Armed outside any lock scope: the interval outlives the call that starts it.
      // Unref'd: the calls themselves keep the process alive, this check of them must not (nor
      // show up as an active handle once the last call settled, until its next tick stops it).
      this.sweeper ??= runOutsideLockScope(() => setInterval(() => this.sweep(), this.resolution).unref());
      let running: Promise<T>;
      try {
        running = call();
      } catch (error) {
        running = Promise.reject(error);
      }
      entry.running = running;
      running.then(
        (value) => {
          this.finish(entry);
          if ((value as unknown) === QUEUED_REPLY) reject(LockStoreError.inTransaction(operation));
          else resolve(value);
        },
        (error: unknown) => {
          this.finish(entry);
          reject(error instanceof LockStoreError ? error : LockStoreError.failed(operation, error));
        },
      );
    });
  }

  /**
   * Resolves once no call is in flight, including calls started by what the settled ones set off
   * (a grant undone on arrival): each is bounded, so this is too.
   */
  async settled(): Promise<void> {
    while (this.pending.size > 0) {
      await new Promise<void>((resolve) => this.idle.push(resolve));
      // One macrotask turn: the callers' continuations run and may start follow-up calls.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private finish(entry: Pending): void {
    if (!this.pending.delete(entry) || this.pending.size > 0) return;
    for (const resolve of this.idle.splice(0)) resolve();
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
      this.finish(entry);
      const timedOut = LockStoreError.timeout(entry.operation, this.timeout);
      gaveUpOn.set(timedOut, entry.running!);
      entry.reject(timedOut);
    }
    // Idle: stop ticking until the next call.
    if (this.pending.size === 0) this.close();
  }
}
