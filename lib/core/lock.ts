import type { Lease } from './lease/lease';
import { RELEASE_FAILED } from './lock.messages';
import { validateTtl } from './options/validate-acquire-options';

/**
 * A held distributed lock, as one caller sees it: a handle on the lease it took, and on the
 * leases of its call chain it re-entered (reentrancy). A lease counts its handles and is released
 * in Redis with the last one, whichever that is, so work running under any handle stays covered.
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
  private combinedSignal: AbortSignal | undefined;

  /** @internal Locks come from LockService, never from user code. */
  constructor(
    /** @internal The lease this handle took, or the innermost one it re-entered. */
    readonly lease: Lease,
    reentered = false,
    /** @internal More leases of the call chain this handle re-entered: it covers keys of several. */
    private readonly alsoHeld: readonly Lease[] = [],
    keys: readonly string[] = lease.keys,
  ) {
    this.keys = keys;
    this.key = keys[0]!;
    this.token = lease.token;
    this.fence = lease.fence;
    this.reentered = reentered;
  }

  /** When the lease ends if not renewed (epoch ms, this process' clock). */
  get expiresAt(): number {
    return Math.min(this.lease.expiresAt, ...this.alsoHeld.map((lease) => lease.expiresAt));
  }

  /** Aborts with a LockLostError when the lock is lost; pass it on to work that should stop then. */
  get signal(): AbortSignal {
    if (this.alsoHeld.length === 0) return this.lease.signal;
    this.combinedSignal ??= AbortSignal.any([this.lease.signal, ...this.alsoHeld.map((lease) => lease.signal)]);
    return this.combinedSignal;
  }

  /** True while the lock is ours as far as this process knows (and this handle is not released). */
  get held(): boolean {
    return !this.releasing && this.lease.held && this.alsoHeld.every((lease) => lease.held);
  }

  /**
   * Renews the lease now, to `ttl` ms (default: the current lease length, which later automatic
   * renewals then use; never past maxHold). Rejects with LockLostError if the lock is no longer
   * ours, LockStoreError if Redis cannot be reached.
   */
  async extend(ttl?: number): Promise<void> {
    const length = ttl === undefined ? undefined : validateTtl(ttl);
    if (this.releasing) throw this.lease.lostError();
    await Promise.all([this.lease, ...this.alsoHeld].map((lease) => lease.extend(length ?? lease.currentTtl)));
  }

  /**
   * Releases the lock. Resolves true if it let go of a lock that was still ours, false if it was
   * already gone (lost or released). Idempotent: later calls give the first call's answer. While
   * other handles of the same lease (re-entered ones, or the outer one) are unreleased, the lock
   * stays held in Redis. Rejects with LockStoreError only when Redis cannot be reached; the lease
   * then ends on its own.
   */
  release(): Promise<boolean> {
    this.releasing ??=
      this.alsoHeld.length === 0
        ? this.lease.releaseHandle()
        : Promise.all([this.lease, ...this.alsoHeld].map((lease) => lease.releaseHandle())).then((released) =>
            released.every(Boolean),
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
      this.lease.context.logger.warn(RELEASE_FAILED(this.keys, (error as Error).message));
    }
  }
}
