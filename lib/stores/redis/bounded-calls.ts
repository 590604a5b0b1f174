import { LockStoreError } from '../../core/errors';
import { runOutsideLockScope } from '../../core/scope/lock-scope';
import { QUEUED_REPLY } from './transaction-reply';
import { InsertionList, type Listed } from '../../core/utils/insertion-list';

/**
 * A call in flight. A class, not an object literal: V8 may decide to allocate a literal's objects
 * straight into the old generation (allocation-site pretenuring) when, as while the first calls
 * wait for the connection, most of them outlive a GC; from then on every minor GC copies what
 * those dead entries point to (measured: about five times the GC time per lock).
 */
class Pending implements Listed<Pending> {
  listPrev: Pending | undefined = undefined;
  listNext: Pending | undefined = undefined;

  constructor(
    readonly operation: string,
    readonly deadline: number,
    readonly reject: (error: unknown) => void,
    /** The client's own promise of the call, which may settle after the bound gave up on it. */
    readonly running: Promise<unknown>,
  ) {}
}

/** The client's own promise of each call that timed out, by the LockStoreError it failed with. */
const gaveUpOn = new WeakMap<object, Promise<unknown>>();

const NO_ARGUMENTS: readonly unknown[] = [];

/**
 * When `error` is a call's timeout: the call itself, which the client may still run (see
 * LateGrants) and which then resolves.
 */
export function lateCallOf(error: unknown): Promise<unknown> | undefined {
  return typeof error === 'object' && error !== null ? gaveUpOn.get(error) : undefined;
}

/**
 * Answers a call at once instead of sending it: a LockStoreError saying why (the connection is
 * known to be refused), or undefined to send it.
 */
export type CallGate = (operation: string) => LockStoreError | undefined;

/**
 * Bounds every store call: one that has not settled `timeout` ms after it started fails with
 * LockStoreError (ioredis' offline queue would otherwise hold it until Redis is back). One timer
 * per store, armed for the earliest deadline in flight, instead of a timer per call: the hot path
 * allocates no timer, and a call fails at its deadline, not at the next tick of a coarse sweep.
 * Every call has the same bound, so calls in start order are also in deadline order.
 */
export class BoundedCalls {
  /** In start order, hence deadline order. */
  private readonly pending = new InsertionList<Pending>();
  private timer: NodeJS.Timeout | undefined;
  /** Callers of settled() waiting for the last call in flight to end. */
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly timeout: number,
    private readonly gate: CallGate = () => undefined,
  ) {}

  /** Calls started and not yet settled. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Runs `call`; any failure becomes a LockStoreError, and so does taking longer than the bound or
   * a reply of QUEUED (the command sat in a user's transaction and did not run). A call the gate
   * answers is never started (see neverSent).
   */
  run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    return this.send(operation, call, undefined, NO_ARGUMENTS);
  }

  /**
   * `run` for a function called with `argv` (no closure to build per call, as the store's scripts
   * are sent): `fn.apply(self, argv)`, bounded the same way.
   */
  send<T>(
    operation: string,
    fn: (...argv: never[]) => Promise<T>,
    self: unknown,
    argv: readonly unknown[],
  ): Promise<T> {
    const refused = this.gate(operation);
    if (refused) {
      unsent.add(refused);
      return Promise.reject(refused);
    }
    let running: Promise<T>;
    try {
      running = fn.apply(self, argv as never[]);
    } catch (error) {
      running = Promise.reject(error);
    }
    return this.bound(operation, running);
  }

  /** Tracks a started call until it settles or its deadline passes (see expire). */
  private bound<T>(operation: string, running: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = new Pending(operation, performance.now() + this.timeout, reject, running);
      this.pending.add(entry);
      // A timer already armed is due no later than this call's deadline.
      this.timer ??= this.arm(this.timeout);
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

  /** Stops the timer (the store is closing). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private finish(entry: Pending): void {
    if (!this.pending.delete(entry) || this.pending.size > 0) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /**
   * Armed outside any lock scope: the timer outlives the call that arms it. Unref'd: the calls
   * themselves keep the process alive, this check of them must not.
   */
  private arm(delay: number): NodeJS.Timeout {
    return runOutsideLockScope(() => setTimeout(() => this.expire(), delay).unref());
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const entry of this.pending) {
      // A timer may fire a fraction of a millisecond early: wait for what is left.
      if (entry.deadline > now) {
        this.timer = this.arm(Math.max(1, Math.ceil(entry.deadline - now)));
        return;
      }
      this.finish(entry);
      const timedOut = LockStoreError.timeout(entry.operation, this.timeout);
      gaveUpOn.set(timedOut, entry.running);
      entry.reject(timedOut);
    }
  }
}

const unsent = new WeakSet<object>();

/** Whether `error` answered a call that was never sent, so there is nothing of it to undo. */
export function neverSent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && unsent.has(error);
}
