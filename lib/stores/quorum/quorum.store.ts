import { randomUUID } from 'node:crypto';
import { LockStoreError } from '../../core/errors';
import type {
  AcquireAttempt,
  HandOverRequest,
  ForcedRelease,
  ForceReleaseRequest,
  HandOverResult,
  KeyHolding,
  LockTarget,
  LeaseRequest,
  LockStore,
  ReleaseListener,
  ReleaseRequest,
  StoreCapabilities,
} from '../lock-store.interface';
import { StoreLifeCycle } from '../store-life-cycle';
import type { RedisStore } from '../redis/redis.store';
import { SCRIPTS } from '../redis/script-commands';
import { askMajority } from './majority';
import { quorumUnreachable } from './quorum-errors';
import { grantByMajority, undo } from './quorum-grant';
import { onFirstAndMajority } from './release-announcements';
import { quorumKeysOf } from './quorum-keys';
import { forceReleaseQuorum, inspectQuorum } from './quorum-inspection';

/**
 * Locks on N independent Redis masters (Redlock): a lock is held while a majority holds it.
 * Each node is a RedisStore of its own (its connection, bounded calls, release notifications);
 * this store asks them all at once and acts on the majority's answer as soon as it is known.
 *
 * Round trips (parallel to every node): acquire and hand-over 2 (take + propose a fence, then
 * write the fence back), extend 1, release 1, isLocked 1.
 *
 * Why fences strictly increase per key, whichever nodes answer: a grant of F needs a majority W
 * whose slot counters were raised to >= F (phase 2) while the token held the keys there. A later
 * grant to another token needs a majority P that took the keys (phase 1); P and W share a node X.
 * X's counter is >= F from phase 2 on, and only rises (phase 2 writes max(counter, F'), and the
 * counter is one per hash slot, never expiring). When the later token takes X it proposes
 * max(counter + 1, clock) > F; when it already held X (a re-run), it proposes either the fence its
 * own phase 2 recorded beside its token on X, which was computed from a proposal of X made after
 * F was written there, or max(counter + 1, clock). So F' = max(proposals) > F.
 * A node that restarted, empty or from an older snapshot (RDB, an AOF that lost its last second),
 * may have a counter below F: it proposes at least its clock in microseconds, which is past F as
 * long as the node clocks agree to within the time the restart took and the counters trail the
 * clocks (see README, Fencing). One node or several restarted that way: the same bound holds.
 */
export class QuorumStore implements LockStore {
  private readonly life = new StoreLifeCycle();
  /** Quorum operations in flight; close() lets them finish (each is bounded). */
  private readonly inFlight = new Set<Promise<unknown>>();
  /**
   * A hand-over is granted by a majority like an acquisition (two phases), so its receiver waits
   * for that grant: no optimistic start inside the giver's lease. Listeners are counted per node,
   * which says nothing about the majority; release ids are the quorum's own (see onFirstAndMajority).
   */
  readonly capabilities: StoreCapabilities = {
    kinds: ['mutex'],
    optimisticHandOver: false,
    countsListeners: false,
    releaseIds: false,
    announcementsPerRelease: 2,
  };

  constructor(private readonly nodes: readonly RedisStore[]) {}

  optimisticNow(): boolean {
    return false;
  }

  tryAcquire({ kind, keys, token, ttl }: LeaseRequest): Promise<AcquireAttempt> {
    return this.track(async () => {
      const { fence, remaining } = await grantByMajority(this.nodes, {
        operation: 'acquire',
        kind,
        keys,
        token,
        ttl,
        undoTokens: [token],
        propose: (node) => node.call('acquire', SCRIPTS.quorumAcquire, quorumKeysOf(keys), [token, ttl]),
      });
      if (fence === null) return { fence: null, remaining };
      if (this.life.state !== 'open') {
        undo(this.nodes, this.everyNode(), { kind, keys }, [token]);
        throw LockStoreError.closed();
      }
      return { fence };
    });
  }

  /**
   * Atomic on each node (the keys pass from the giver to the receiver with no moment in which
   * they are free there), granted only as tryAcquire is: a majority, the fence written back,
   * within validity. Otherwise the receiver's keys are undone everywhere, the giver's released,
   * and the receiver is told it got nothing (fence null): never a lock it does not hold.
   */
  handOver({ kind, keys, from: fromToken, to: toToken, ttl }: HandOverRequest): Promise<HandOverResult> {
    return this.track(async () => {
      const releaseId = randomUUID();
      const { fence, owned } = await grantByMajority(this.nodes, {
        operation: 'handOver',
        kind,
        keys,
        token: toToken,
        ttl,
        undoTokens: [toToken, fromToken],
        propose: (node) =>
          node.call('handOver', SCRIPTS.quorumHandOver, quorumKeysOf(keys), [fromToken, toToken, ttl, releaseId]),
      });
      if (fence === null) return { owned, fence: null };
      if (this.life.state !== 'open') {
        undo(this.nodes, this.everyNode(), { kind, keys }, [toToken]);
        return { owned, fence: null };
      }
      return { owned, fence };
    });
  }

  /** True when a majority extended the lease; the lease then runs from when this was sent. */
  extend(request: LeaseRequest): Promise<boolean> {
    return this.track(() => this.majoritySays('extend', (node) => node.extend(request)));
  }

  /** Sent to every node; true when a majority still held the lock for `token`. */
  release({ kind, keys, token }: ReleaseRequest): Promise<boolean> {
    if (this.life.state === 'closed') return Promise.reject(LockStoreError.closed());
    const named: ReleaseRequest = { kind, keys, token, releaseId: randomUUID() };
    return this.track(() => this.majoritySays('release', (node) => node.release(named)), true);
  }

  /** True when a majority has one of the keys. */
  isLocked(keys: readonly string[]): Promise<boolean> {
    return this.track(() => this.majoritySays('isLocked', (node) => node.isLocked(keys)));
  }

  /** The token a majority names, per key (see quorum-inspection.ts). */
  inspect(target: LockTarget): Promise<KeyHolding[]> {
    return this.track(() => inspectQuorum(this.nodes, target));
  }

  /** Frees the keys on every node (see quorum-inspection.ts). */
  forceRelease(request: ForceReleaseRequest): Promise<ForcedRelease[]> {
    return this.track(() => forceReleaseQuorum(this.nodes, request));
  }

  /**
   * Listens on every node, hears each release on its first announcement and on the majority's
   * (every node announces it under one id; see release-announcements.ts), and
   * resolves once a majority has answered its subscription (a node whose subscription failed
   * counts as answered: waiters keep their poll, so a missed announcement costs one poll).
   */
  async onRelease(keys: readonly string[], listener: ReleaseListener): Promise<() => void> {
    this.life.assertOpen();
    const stops: (() => void)[] = [];
    let stopped = false;
    // Nodes that answer after the stop are stopped then, but may hear a release before that.
    const heard = onFirstAndMajority(() => {
      if (!stopped) listener('');
    }, this.nodes.length);
    const listening = this.nodes.map((node) =>
      node.onRelease(keys, heard).then(
        (stop) => (stopped ? stop() : stops.push(stop)),
        () => undefined,
      ),
    );
    await askMajority(
      this.nodes.length,
      this.everyNode(),
      (node) => listening[node]!,
      () => true,
    );
    return () => {
      stopped = true;
      for (const stop of stops.splice(0)) stop();
    };
  }

  close(): Promise<void> {
    return this.life.close(
      async () => {
        while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      },
      // Each node lets its own calls finish (undos, late answers), then closes what we opened.
      async () => void (await Promise.all(this.nodes.map((node) => node.close()))),
    );
  }

  private async majoritySays(operation: string, ask: (node: RedisStore) => Promise<boolean>): Promise<boolean> {
    const verdict = await askMajority(
      this.nodes.length,
      this.everyNode(),
      (node) => ask(this.nodes[node]!),
      (yes) => yes,
    );
    if (verdict.outcome === 'unreachable') throw quorumUnreachable(operation, this.nodes.length, verdict);
    return verdict.outcome === 'yes';
  }

  /** Runs a quorum operation, tracked so close() waits for it. */
  private track<T>(operation: () => Promise<T>, whileClosing = false): Promise<T> {
    const { state } = this.life;
    if (state === 'closed' || (state === 'closing' && !whileClosing)) return Promise.reject(LockStoreError.closed());
    const running = operation();
    this.inFlight.add(running);
    const done = () => this.inFlight.delete(running);
    running.then(done, done);
    return running;
  }

  private everyNode(): number[] {
    return this.nodes.map((_, index) => index);
  }
}
