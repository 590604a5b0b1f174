import type {
  AcquireAttempt,
  HandOverRequest,
  HandOverResult,
  KeyHolding,
  LeaseRequest,
  LockKind,
  ReleaseRequest,
} from '../lock-store.interface';
import { WRITER_WAITING_MARK } from '../../core/tuning';

interface Share {
  /** Monotonic time at which the share's lease ends. */
  expiresAt: number;
  fence: number;
}

/** One key's shares (by kind and token) and a waiting writer's mark. */
interface SharedKey {
  readonly shares: Map<string, Share>;
  /** Until when a waiting writer holds back later readers (0: none waits). */
  writerWaitsUntil: number;
}

/** What the shares need from the memory store: its mutex leases, fences and announcements. */
export interface SharesHost {
  /** When the mutex lease on `key` ends, or undefined when no mutex holds it. */
  mutexEnds(key: string, now: number): number | undefined;
  /** The next fence (the counter shared with the mutex), reserving only itself: shares are never handed over optimistically. */
  nextFence(now: number): number;
  notify(key: string, releaseId: string): void;
}

/**
 * Permits and readers in the memory store, with the Redis scripts' semantics (lua-shared.ts): each
 * a share of one key with its own lease and fence; a mutex excludes shares and waits for them,
 * marking the key so later readers wait behind it.
 */
export class MemoryShares {
  private readonly keys = new Map<string, SharedKey>();

  tryAcquire({ kind, keys: [key], token, ttl, limit = 0 }: LeaseRequest, now: number): AcquireAttempt {
    const mutexEnds = this.host.mutexEnds(key!, now);
    if (mutexEnds !== undefined) return { fence: null, remaining: Math.ceil(mutexEnds - now) };
    const shared = this.live(key!, now);
    const id = `${kind}:${token}`;
    const mine = shared?.shares.get(id);
    if (mine) return { fence: mine.fence };
    if (kind === 'read' && shared && shared.writerWaitsUntil > now)
      return { fence: null, remaining: Math.ceil(shared.writerWaitsUntil - now) };
    if (limit > 0 && shared && shared.shares.size >= limit)
      return { fence: null, remaining: Math.ceil(this.earliest(shared) - now) };
    const fence = this.host.nextFence(now);
    const entry = shared ?? this.created(key!);
    entry.shares.set(id, { expiresAt: now + ttl, fence });
    return { fence };
  }

  extend({ kind, keys: [key], token, ttl }: LeaseRequest, now: number): boolean {
    const share = this.live(key!, now)?.shares.get(`${kind}:${token}`);
    if (!share) return false;
    share.expiresAt = now + ttl;
    return true;
  }

  release({ kind, keys: [key], token, releaseId = '' }: ReleaseRequest, now: number): boolean {
    const shared = this.live(key!, now);
    if (!shared?.shares.delete(`${kind}:${token}`)) return false;
    this.live(key!, now);
    this.host.notify(key!, releaseId);
    return true;
  }

  /** Lets go of `from`'s share and takes one for `to` in one step, as the Redis script does. */
  handOver({ kind, keys, from, to, ttl, limit }: HandOverRequest, now: number): HandOverResult {
    const shared = this.live(keys[0]!, now);
    if (shared?.shares.has(`${kind}:${to}`))
      return { owned: true, fence: this.tryAcquire({ kind, keys, token: to, ttl, limit }, now).fence };
    const owned = shared?.shares.delete(`${kind}:${from}`) ?? false;
    const { fence } = this.tryAcquire({ kind, keys, token: to, ttl, limit }, now);
    if (fence === null && owned) this.host.notify(keys[0]!, '');
    return { owned, fence };
  }

  /**
   * A mutex attempt on `key`: undefined when no share holds it; otherwise the key is marked as
   * wanted by a writer, and the answer is the earliest share's time left.
   */
  blockWriter(key: string, now: number): number | undefined {
    const shared = this.live(key, now);
    if (!shared) return undefined;
    if (shared.shares.size === 0) {
      // Only a writer's mark is left: the writer takes the key, and the mark goes with it.
      this.keys.delete(key);
      return undefined;
    }
    shared.writerWaitsUntil = now + WRITER_WAITING_MARK;
    return Math.ceil(this.earliest(shared) - now);
  }

  /** Whether a share holds `key`. */
  holds(key: string, now: number): boolean {
    return (this.live(key, now)?.shares.size ?? 0) > 0;
  }

  /** One holding per live share of `key`, ids `<kind>:<token>` (see inspect). */
  holdings(key: string, now: number): KeyHolding[] {
    const shared = this.live(key, now);
    if (!shared) return [];
    return [...shared.shares].map(([id, share]) => ({
      key,
      token: id.slice(id.indexOf(':') + 1),
      kind: id.slice(0, id.indexOf(':')) as LockKind,
      fence: share.fence,
      expiresIn: Math.ceil(share.expiresAt - now),
    }));
  }

  /** Frees every share of `key` and a writer's mark (an operator's forceRelease). */
  drop(key: string): void {
    this.keys.delete(key);
  }

  constructor(private readonly host: SharesHost) {}

  /** The key's entry with expired shares dropped (and the entry itself once nothing is left in it). */
  private live(key: string, now: number): SharedKey | undefined {
    const shared = this.keys.get(key);
    if (!shared) return undefined;
    for (const [id, share] of shared.shares) if (share.expiresAt <= now) shared.shares.delete(id);
    if (shared.shares.size === 0 && shared.writerWaitsUntil <= now) {
      this.keys.delete(key);
      return undefined;
    }
    return shared;
  }

  private created(key: string): SharedKey {
    const entry: SharedKey = { shares: new Map(), writerWaitsUntil: 0 };
    this.keys.set(key, entry);
    return entry;
  }

  private earliest(shared: SharedKey): number {
    let earliest = Infinity;
    for (const share of shared.shares.values()) earliest = Math.min(earliest, share.expiresAt);
    return earliest;
  }
}
