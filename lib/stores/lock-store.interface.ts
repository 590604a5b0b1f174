/**
 * What a lock is: the kind decides how many may hold it and how it passes from one holder to the
 * next. A mutex (a read-write lock's writer) has one holder; a permit is one of at most `limit`
 * holders of a counting lock; readers share their key with each other. A key held by a mutex
 * admits nobody else, and a mutex waits while any permit or reader holds its key. Each store
 * lists the kinds it implements in its capabilities.
 */
export type LockKind = 'mutex' | 'permit' | 'read';

/** The lock a call acts on: its kind and its full store keys (prefix applied). */
export interface LockTarget {
  readonly kind: LockKind;
  readonly keys: readonly string[];
}

/** Take (tryAcquire) or renew (extend) a lease for `token`, for `ttl` ms. */
export interface LeaseRequest extends LockTarget {
  readonly token: string;
  readonly ttl: number;
  /** A permit's limit: at most this many permits on the key, counted by this caller (kind 'permit' only). */
  readonly limit?: number;
}

export interface ReleaseRequest extends LockTarget {
  readonly token: string;
  /**
   * Announced to onRelease listeners with the release (stores with `capabilities.releaseIds`):
   * a listener on several stores (a quorum's nodes) hears one release once. Default ''.
   */
  readonly releaseId?: string;
}

export interface HandOverRequest extends LockTarget {
  /** The giver's token. */
  readonly from: string;
  /** The receiver's token. */
  readonly to: string;
  /** The receiver's lease, ms. */
  readonly ttl: number;
  /** The receiver's limit, for a permit (see LeaseRequest.limit). */
  readonly limit?: number;
  /** The receiver already runs on the giver's lease (stores with `capabilities.optimisticHandOver`). */
  readonly optimistic?: OptimisticHandOver;
}

/** An optimistic hand-over: its receiver runs with `expectedFence + 1` before the store answers. */
export interface OptimisticHandOver {
  /** The giver's fence. */
  readonly expectedFence: number;
  /** How long (ms) the giver's lease still covers the receiver: how soon the call must leave. */
  readonly coveredFor: number;
}

/** One acquisition attempt: the fence when taken, or how long the blocking lease has left. */
export type AcquireAttempt = { fence: number } | { fence: null; remaining: number };

/** A take-over from one owner to the next in one atomic step. */
export interface HandOverResult {
  /** Whether the giver still owned every key (false: its lease had already ended). */
  owned: boolean;
  /** The new owner's fence, or null when another owner took the lock in between. */
  fence: number | null;
  /**
   * Whether waiters of other processes listen for these keys when the hand-over ran (false: only
   * the giver's process does, so it may keep handing over; undefined: the store cannot tell, and
   * always so without `capabilities.countsListeners`).
   */
  othersWaiting?: boolean;
}

/** Who holds one key now (see LockStore.inspect). */
export interface KeyHolding {
  /** The store key. */
  readonly key: string;
  /** The holder's owner token (it carries the holder's id, see core/holder/holder-id.ts). */
  readonly token: string;
  /** What it holds: the key itself ('mutex': a writer or a plain lock), a permit, or a read share. */
  readonly kind: LockKind;
  /** The key's fence counter: the fence of its current lease. */
  readonly fence: number;
  /** The lease's time left, in ms. */
  readonly expiresIn: number;
}

/** What LockStore.forceRelease frees: the keys, whoever holds them. */
export interface ForceReleaseRequest extends LockTarget {
  /** Announced with the release, as ReleaseRequest's (stores with `capabilities.releaseIds`). */
  readonly releaseId?: string;
}

/** A lease taken from its holder by LockStore.forceRelease. */
export interface ForcedRelease {
  readonly key: string;
  readonly token: string;
  readonly fence: number;
}

/** What a store can do beyond the common contract; fixed for the store's life. */
export interface StoreCapabilities {
  /** The lock kinds it implements (every store: 'mutex'). */
  readonly kinds: readonly LockKind[];
  /**
   * handOver accepts `optimistic`. False where a grant counts only once more than the script's
   * answer says so (replica acknowledgement, a quorum). See also `LockStore.optimisticNow`.
   */
  readonly optimisticHandOver: boolean;
  /** handOver answers `othersWaiting` when it can tell. */
  readonly countsListeners: boolean;
  /** release announces `releaseId` to onRelease listeners. */
  readonly releaseIds: boolean;
  /**
   * How many times onRelease listeners hear one release: 1, or 2 for a quorum (when its first node
   * announces it, and again once a majority has).
   */
  readonly announcementsPerRelease: 1 | 2;
}

/** Told of one release; `releaseId` names it ('' when unnamed, or the store has no release ids). */
export type ReleaseListener = (releaseId: string) => void;

/**
 * Where leases live: the contract every store keeps (test/contract/store-contract.spec.ts checks
 * it on each, selecting cases by `capabilities`). Keys are full store keys. Every method is
 * atomic: acquisition takes all keys or none, extend/release act only while the token still owns
 * every key. Every call may run twice (a resend after a lost reply): a grant's re-run answers as
 * the first run did. After close() every call rejects with LockStoreError.
 */
export interface LockStore {
  readonly capabilities: StoreCapabilities;
  /**
   * Whether an optimistic hand-over of `keys` may start its receiver now (asked at each
   * hand-over): false without the capability, and while the store cannot confirm soon (the
   * connection serving the keys not ready, e.g. the master of their Cluster slot down: the
   * confirmation would wait for a reconnect as the receiver runs).
   */
  optimisticNow(keys: readonly string[]): boolean;
  /**
   * Takes every key for `ttl` ms if none is held, with a fence (> 0, strictly increasing per key,
   * issued in the same atomic step). When busy, `remaining` is the blocking lease's time left in
   * ms (0 if unknown). A permit (one key) is taken while fewer than `limit` permits hold the key
   * and no mutex does; a reader while no mutex holds it and no writer (a mutex) waits for it:
   * a mutex attempt that finds readers marks the key as wanted by a writer for a short while.
   */
  tryAcquire(request: LeaseRequest): Promise<AcquireAttempt>;
  /** Resets the lease to `ttl` ms if `token` still owns every key; false if it does not. */
  extend(request: LeaseRequest): Promise<boolean>;
  /** Deletes the keys `token` owns and notifies listeners; true if it owned every key. */
  release(request: ReleaseRequest): Promise<boolean>;
  /**
   * Releases `from`'s lock and acquires it for `to` in one step (no window in which the lock is
   * free, no notification): the next waiter of this process takes over in one round trip. When
   * another owner holds a key, the fence is null and `from`'s keys are released as a release would.
   * `optimistic`: the hand-over stands only if `from` still owns every key and no fence counter
   * moved past `expectedFence`; otherwise `from`'s keys are released, the fence is null, and
   * `expectedFence + 1` is burnt (never issued to a later holder). For a permit or a reader: `from`'s
   * share is let go of, and `to` takes one if it may as tryAcquire would (never optimistic); if it
   * may not, the fence is null and the release is announced.
   */
  handOver(request: HandOverRequest): Promise<HandOverResult>;
  /** True if any of the keys is held. */
  isLocked(keys: readonly string[]): Promise<boolean>;
  /**
   * Calls `listener` whenever one of `keys` is released, by any process sharing the store.
   * Resolves once listening is active; the returned function stops it. Notifications may be lost
   * (a reconnect): waiters keep a fallback poll. One release may be heard twice (a quorum: when
   * its first node announces it, and when a majority has).
   */
  onRelease(keys: readonly string[], listener: ReleaseListener): Promise<() => void>;
  /** Who holds each of `keys`: one entry per held key, none for a free one. Reads, never writes. */
  inspect(target: LockTarget): Promise<KeyHolding[]>;
  /**
   * An operator's tool: deletes each held key whoever owns it and announces the release (waiters
   * wake). Fence counters are kept, so the next holder's fence is above the freed one; the old
   * holder's extend and release find the key not theirs. Answers what it freed.
   */
  forceRelease(request: ForceReleaseRequest): Promise<ForcedRelease[]>;
  /** Stops timers and closes connections the store created (never a client the user passed in). */
  close(): Promise<void>;
}
