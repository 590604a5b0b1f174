import type { Lease } from './lease';
import { RELEASE_FAILED } from './lock.messages';
import { validateTtl } from './validation/validate-acquire-options';

/**
 * A held distributed lock, as one caller sees it. The outermost acquisition of a call chain takes
 * the lease in Redis; an acquisition of the same keys further down the chain (reentrancy) gets its
 * own handle on that lease. The lease counts its handles: it is released in Redis when the last
 * one is released, whichever that is.
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
  /** True when this handle re-entered a lock its call chain already held (no Redis round trip). */
  readonly reentered: boolean;

  private releasing: Promise<boolean> | undefined;

  /** @internal Locks come from LockService, never from user code. */
  constructor(
    /** @internal */
    readonly lease: Lease,
    reentered = false,
  ) {
    this.keys = lease.keys;
    this.key = lease.keys[0]!;
    this.token = lease.token;
    this.fence = lease.fence;
    this.reentered = reentered;
  }

  /** When the lease ends if not renewed (epoch ms, this process' clock). */
  get expiresAt(): number {
    return this.lease.expiresAt;
  }

  /** Aborts with a LockLostError when the lock is lost; pass it on to work that should stop then. */
  get signal(): AbortSignal {
    return this.lease.signal;
  }

  /** True while the lock is ours as far as this process knows (and this handle is not released). */
  get held(): boolean {
    return !this.releasing && this.lease.held;
  }

  /**
   * Renews the lease now, to `ttl` ms (default: the current lease length, which later automatic
   * renewals then use; never past maxHold). Rejects with LockLostError if the lock is no longer
   * ours, LockStoreError if Redis cannot be reached.
   */
  async extend(ttl?: number): Promise<void> {
    const length = ttl === undefined ? undefined : validateTtl(ttl);
    if (this.releasing) throw this.lease.lostError();
    await this.lease.extend(length ?? this.lease.currentTtl);
  }

  /**
   * Releases the lock. Resolves true if it let go of a lock that was still ours, false if it was
   * already gone (lost or released). Idempotent: later calls give the first call's answer. While
   * other handles of the same lease (re-entered ones, or the outer one) are unreleased, the lock
   * stays held in Redis. Rejects with LockStoreError only when Redis cannot be reached; the lease
   * then ends on its own.
   */
  release(): Promise<boolean> {
    this.releasing ??= this.lease.releaseHandle();
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
      this.lease.owner.logger.error(RELEASE_FAILED(this.keys, (error as Error).message));
    }
  }
}
