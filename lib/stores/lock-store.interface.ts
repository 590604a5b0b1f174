/** One acquisition attempt: the fence when taken, or how long the blocking lease has left. */
export type AcquireAttempt = { fence: number } | { fence: null; remaining: number };

/** A take-over from one owner to the next in one atomic step. */
export interface HandOverResult {
  /** Whether `fromToken` still owned every key (false: its lease had already ended). */
  owned: boolean;
  /** The new owner's fence, or null when another owner took the lock in between. */
  fence: number | null;
  /**
   * Whether waiters of other processes listen for these keys when the hand-over ran (false: only
   * the giver's process does, so it may keep handing over; undefined: the store cannot tell).
   */
  othersWaiting?: boolean;
}

/** Who holds one key now (see LockStore.inspect). */
export interface KeyHolding {
  /** The store key. */
  readonly key: string;
  /** The holder's owner token (it carries the holder's id, see core/holder/holder-id.ts). */
  readonly token: string;
  /** The key's fence counter: the fence of its current lease. */
  readonly fence: number;
  /** The lease's time left, in ms. */
  readonly expiresIn: number;
}

/** A lease taken from its holder by LockStore.forceRelease. */
export interface ForcedRelease {
  readonly key: string;
  readonly token: string;
  readonly fence: number;
}

/**
 * Where leases live. Keys here are full store keys (prefix applied). Every method is atomic:
 * acquisition takes all keys or none, extend/release act only while `token` still owns every key.
 */
export interface LockStore {
  /**
   * Whether an in-process hand-over may start its receiver before the store confirms it (see
   * WaitQueues.release). False where a grant counts only once more than the script's answer says
   * so (replica acknowledgement, a quorum). Default: true.
   */
  readonly optimisticHandOver?: boolean;
  /**
   * Takes every key for `ttl` ms if none is held, with a fence (> 0, strictly increasing per key,
   * issued in the same atomic step). When busy, `remaining` is the blocking lease's time left in
   * ms (0 if unknown).
   */
  tryAcquire(keys: readonly string[], token: string, ttl: number): Promise<AcquireAttempt>;
  /** Resets the lease to `ttl` ms if `token` still owns every key; false if it does not. */
  extend(keys: readonly string[], token: string, ttl: number): Promise<boolean>;
  /** Deletes the keys `token` owns and notifies waiters; true if it owned every key. */
  release(keys: readonly string[], token: string): Promise<boolean>;
  /**
   * Releases `fromToken`'s lock and acquires it for `toToken` in one step (no window in which the
   * lock is free, no notification): the next waiter of this process takes over in one round trip.
   * With `expectedFence` (an optimistic hand-over, whose receiver already runs with that fence plus
   * one) it stands only if `fromToken` still owns every key and no fence counter moved past
   * `expectedFence`; otherwise `fromToken`'s keys are released and the fence is null. `coveredFor`:
   * how long (ms) the giver's lease still covers that receiver, which lets the store decide how
   * soon the command must leave (see WriteCoalescer).
   */
  handOver(
    keys: readonly string[],
    fromToken: string,
    toToken: string,
    ttl: number,
    expectedFence?: number,
    coveredFor?: number,
  ): Promise<HandOverResult>;
  /** True if any of the keys is held. */
  isLocked(keys: readonly string[]): Promise<boolean>;
  /**
   * Calls `listener` whenever one of `keys` is released, by any process sharing the store.
   * Resolves once listening is active; the returned function stops it. Notifications may be lost
   * (a reconnect): waiters keep a fallback poll.
   */
  onRelease(keys: readonly string[], listener: () => void): Promise<() => void>;
  /** Who holds each of `keys`: one entry per held key, none for a free one. Reads, never writes. */
  inspect(keys: readonly string[]): Promise<KeyHolding[]>;
  /**
   * An operator's tool: deletes each held key whoever owns it and announces the release (waiters
   * wake). Fence counters are kept, so the next holder's fence is above the freed one; the old
   * holder's extend and release find the key not theirs. Answers what it freed.
   */
  forceRelease(keys: readonly string[]): Promise<ForcedRelease[]>;
  /** Stops timers and closes connections the store created (never a client the user passed in). */
  close(): Promise<void>;
}
