import type { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { LockLostError, type LockLostReason, LockStoreError } from './errors';
import type { LockStore } from './interfaces/lock-store.interface';
import { LOST_DETAIL, RELEASE_FAILED, RENEWAL_FAILED } from './lock.messages';
import { validateTtl } from './validation/validate-acquire-options';

/** One acquisition as the store granted it. @internal */
export interface LockGrant {
  keys: readonly string[];
  storeKeys: readonly string[];
  token: string;
  fence: number;
  ttl: number;
  autoRenew: boolean;
  /** performance.now() when the acquire was sent: the lease is counted from then, not from the reply. */
  sentAt: number;
}

/** What a Lock needs from the service that created it (one object shared by all its locks). @internal */
export interface LockOwner {
  readonly store: LockStore;
  readonly logger: Logger;
  /** Releases the keys (or hands them to the next waiter of this process); true if we owned them. */
  releaseLock(storeKeys: readonly string[], token: string): Promise<boolean>;
  /** Called once when the lock stops being held (released or lost). */
  lockSettled(lock: Lock): void;
}

type LockState = 'held' | 'released' | 'lost';

/** Renewal retries after a failed extend, never slower than this (ms). */
const MAX_RETRY_INTERVAL = 1_000;

/**
 * One held lease. Renews itself about every ttl/3 while held (unless autoRenew is off); when the
 * lease cannot be confirmed before it ends, the lock is lost and `signal` aborts with LockLostError.
 */
export class Lock implements AsyncDisposable {
  /** The first of the user's keys (without the prefix). */
  readonly key: string;
  /** All of the user's keys (without the prefix), taken together. */
  readonly keys: readonly string[];
  /** This acquisition's owner token (128 random bits). */
  readonly token: string;
  /** Strictly increasing per key; pass it to downstream writes to reject stale holders. */
  readonly fence: number;

  private state: LockState = 'held';
  private ttl: number;
  /** Monotonic time by which a renewal must be confirmed, less a drift allowance. */
  private deadline: number;
  /** Monotonic time of the next renewal attempt. */
  private renewAt: number;
  private confirmedSentAt: number;
  private expiresAtWall: number;
  private timer: NodeJS.Timeout | undefined;
  private releasing: Promise<boolean> | undefined;
  /** Created on first use: most locks are released without anyone reading `signal`. */
  private controller: AbortController | undefined;

  /** @internal Locks come from LockService, never from user code. */
  constructor(
    private readonly grant: LockGrant,
    private readonly owner: LockOwner,
  ) {
    this.keys = grant.keys;
    this.key = grant.keys[0]!;
    this.token = grant.token;
    this.fence = grant.fence;
    this.ttl = grant.ttl;
    this.deadline = leaseEnd(grant.sentAt, grant.ttl);
    this.renewAt = grant.sentAt + grant.ttl / 3;
    this.confirmedSentAt = grant.sentAt;
    this.expiresAtWall = Date.now() - (performance.now() - grant.sentAt) + grant.ttl;
    this.schedule();
  }

  /** When the lease ends if not renewed (epoch ms, this process' clock). */
  get expiresAt(): number {
    return this.expiresAtWall;
  }

  /** Aborts with a LockLostError when the lock is lost; pass it on to work that should stop then. */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  /** True while the lock is ours as far as this process knows. */
  get held(): boolean {
    return this.state === 'held';
  }

  /**
   * Renews the lease now, to `ttl` ms (default: the current lease length, which later automatic
   * renewals then use). Rejects with LockLostError if the lock is no longer ours, LockStoreError
   * if Redis cannot be reached.
   */
  async extend(ttl?: number): Promise<void> {
    const length = ttl === undefined ? this.ttl : validateTtl(ttl);
    if (this.state !== 'held') throw this.lostError();
    const sentAt = performance.now();
    const stillOurs = await this.owner.store.extend(this.grant.storeKeys, this.token, length);
    if (this.state !== 'held') throw this.lostError();
    if (!stillOurs) {
      this.lose('not-held', LOST_DETAIL.notHeld);
      throw this.lostError();
    }
    this.ttl = length;
    this.confirm(sentAt);
  }

  /**
   * Releases the lock. Resolves true if it released our lock, false if it was already gone (lost
   * or released). Idempotent. Rejects with LockStoreError only when Redis cannot be reached; the
   * lease then ends on its own.
   */
  release(): Promise<boolean> {
    if (this.releasing) return this.releasing;
    const wasHeld = this.state === 'held';
    this.settle('released');
    this.releasing = this.owner.releaseLock(this.grant.storeKeys, this.token).then(
      (released) => wasHeld && released,
      (error: unknown) => {
        if (!wasHeld) return false;
        throw error instanceof LockStoreError ? error : LockStoreError.failed('release', error);
      },
    );
    return this.releasing;
  }

  /** `await using lock = await locks.acquire('k')` releases at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** Releases, logging a failure instead of throwing it (for finally blocks and finalize). @internal */
  async releaseQuietly(): Promise<void> {
    try {
      await this.release();
    } catch (error) {
      this.owner.logger.error(RELEASE_FAILED(this.keys, (error as Error).message));
    }
  }

  /** Marks the lock lost: stops renewal and aborts `signal`. @internal */
  lose(reason: LockLostReason, detail: string, cause?: unknown): void {
    if (this.state !== 'held') return;
    this.settle('lost');
    const error = new LockLostError(this.keys, reason, detail, { cause });
    this.owner.logger.warn(error.message);
    (this.controller ??= new AbortController()).abort(error);
  }

  private lostError(): LockLostError {
    const reason = this.controller?.signal.reason;
    return reason instanceof LockLostError
      ? reason
      : new LockLostError(this.keys, 'not-held', LOST_DETAIL.released);
  }

  private settle(state: LockState): void {
    if (this.state !== 'held') return;
    this.state = state;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.owner.lockSettled(this);
  }

  /** A renewal sent at `sentAt` succeeded: the lease now runs from then (the latest one wins). */
  private confirm(sentAt: number): void {
    if (sentAt < this.confirmedSentAt) return;
    this.confirmedSentAt = sentAt;
    this.deadline = leaseEnd(sentAt, this.ttl);
    this.renewAt = sentAt + this.ttl / 3;
    this.expiresAtWall = Date.now() - (performance.now() - sentAt) + this.ttl;
    this.schedule();
  }

  /** One timer per lock: the next renewal, or the deadline when renewal is off or keeps failing. */
  private schedule(): void {
    if (this.state !== 'held') return;
    clearTimeout(this.timer);
    const wakeAt = this.grant.autoRenew ? Math.min(this.renewAt, this.deadline) : this.deadline;
    // Rounded up: a timer firing a fraction of a ms early would find the deadline not yet passed.
    this.timer = setTimeout(() => void this.tick(), Math.max(0, Math.ceil(wakeAt - performance.now())));
    // A held lock must not keep the process alive by itself.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.state !== 'held') return;
    if (performance.now() >= this.deadline) {
      this.lose('expired', LOST_DETAIL.expired);
      return;
    }
    if (!this.grant.autoRenew) {
      this.schedule();
      return;
    }
    const sentAt = performance.now();
    try {
      const stillOurs = await this.owner.store.extend(this.grant.storeKeys, this.token, this.ttl);
      if (this.state !== 'held') return;
      if (!stillOurs) {
        this.lose('not-held', LOST_DETAIL.notHeld);
        return;
      }
      this.confirm(sentAt);
    } catch (error) {
      if (this.state !== 'held') return;
      if (performance.now() >= this.deadline) {
        this.lose('unreachable', `${LOST_DETAIL.unreachable}: ${(error as Error).message}`, error);
        return;
      }
      this.owner.logger.warn(RENEWAL_FAILED(this.keys, (error as Error).message));
      this.renewAt = performance.now() + Math.min(this.ttl / 10, MAX_RETRY_INTERVAL);
      this.schedule();
    }
  }
}

/** Lease end as this process may rely on it: the ttl less a clock-drift allowance (1% + 2 ms). */
function leaseEnd(sentAt: number, ttl: number): number {
  return sentAt + ttl - Math.floor(ttl * 0.01) - 2;
}
