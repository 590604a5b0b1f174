import type { LockLogger } from '../../core/lock-logger';
import { LockStoreError } from '../../core/errors';
import { QUIT_FAILED } from '../../core/lock.messages';
import type { AcquireAttempt, HandOverResult, LockStore } from '../lock-store.interface';
import { FENCE_BLOCK, HAND_OVER_GATHER_MARGIN } from '../../core/tuning';
import { BoundedCalls, neverSent } from './bounded-calls';
import { ConnectionWatch } from './connection-watch';
import { WriteCoalescer } from './write-coalescer';
import { isCluster } from './create-redis-client';
import type { RedisConnection } from './create-redis-client';
import { PUBLISH_COMMAND, PubSubModeDetector } from './pubsub-mode';
import { type ReleaseListener, ReleaseSubscriber } from './release-subscriber';
import { ReplicaAcknowledgement } from './replica-acknowledgement';
import type { WaitForReplicasOptions } from './redis-options';
import { SCRIPTS, type ScriptName, defineScripts } from './script-commands';
import { withFenceKeys } from '../../core/keys/store-keys';
import { warmSlotTags } from '../../core/keys/slot-tags';

type StoreState = 'open' | 'closing' | 'closed';

/** Locks in one Redis (or one Redis Cluster), each step one atomic script sent as EVALSHA. */
export class RedisStore implements LockStore {
  /** `closing`: no new calls, those in flight finish; a grant that arrives then is undone. */
  private state: StoreState = 'open';
  private closed: Promise<void> | undefined;
  private readonly subscriber: ReleaseSubscriber;
  private readonly calls: BoundedCalls;
  private readonly connection: ConnectionWatch;
  /** One socket write per turn for a single Redis (see WriteCoalescer); a Cluster writes at once. */
  private readonly writes: WriteCoalescer | undefined;
  private readonly pubsub: PubSubModeDetector;
  /** The `waitForReplicas` rule, when set: grants count only once replicas acknowledged them. */
  private readonly replicaAck: ReplicaAcknowledgement | undefined;

  constructor(
    private readonly client: RedisConnection,
    /** Whether we created the client (and so close it); a user's client is never closed. */
    private readonly owned: boolean,
    /** Bound on one Redis call, in ms. */
    timeout: number,
    private readonly logger: LockLogger,
    waitForReplicas?: WaitForReplicasOptions,
  ) {
    defineScripts(client);
    warmSlotTags(); // the fence counters' names (see store-keys.ts)
    this.connection = new ConnectionWatch(client, logger);
    this.calls = new BoundedCalls(timeout, (operation) => this.connection.refused(operation));
    this.writes = isCluster(client) ? undefined : new WriteCoalescer(client);
    this.pubsub = new PubSubModeDetector(client, this.calls);
    this.subscriber = new ReleaseSubscriber(client, this.calls, this.pubsub, logger);
    this.replicaAck = waitForReplicas && new ReplicaAcknowledgement(client, this.calls, waitForReplicas);
  }

  /**
   * Not while grants wait for replicas (a receiver must not start before they acknowledged), nor
   * while the connection is not ready: the confirmation would wait offline as the receiver runs.
   */
  get optimisticHandOver(): boolean {
    return this.replicaAck === undefined && this.client.status === 'ready';
  }

  async tryAcquire(keys: readonly string[], token: string, ttl: number): Promise<AcquireAttempt> {
    this.assertAccepting();
    let reply: number;
    try {
      reply = Number(await this.call('acquire', SCRIPTS.acquire, withFenceKeys(keys), [token, ttl, FENCE_BLOCK]));
    } catch (error) {
      // A timed-out acquire may still run later (ioredis' offline queue keeps it, and resends it
      // after a reconnect). Its undo is queued behind it on the same connection.
      if (!neverSent(error)) this.undo(keys, [token]);
      throw error;
    }
    if (reply <= 0) return { fence: null, remaining: -reply };
    if (this.replicaAck) await this.acknowledged('acquire', keys, token);
    this.refuseWhileClosing(keys, [token]);
    return { fence: reply };
  }

  async extend(keys: readonly string[], token: string, ttl: number): Promise<boolean> {
    this.assertAccepting();
    return Number(await this.call('extend', SCRIPTS.extend, keys, [token, ttl])) === 1;
  }

  /** `releaseId` is announced to listeners (a quorum's nodes announce one release under one id). */
  release(keys: readonly string[], token: string, releaseId = ''): Promise<boolean> {
    // Welcome until the very end: while closing, in-flight calls finish and grants are undone.
    if (this.state === 'closed') return Promise.reject(LockStoreError.closed());
    // Not async: the hot path's release goes out in this turn, with no promise of its own.
    const publish = this.publishNow();
    if (publish === undefined) return this.publishCommand().then((known) => this.sendRelease(keys, token, known, releaseId));
    return this.sendRelease(keys, token, publish, releaseId);
  }

  private sendRelease(keys: readonly string[], token: string, publish: string, releaseId: string): Promise<boolean> {
    return this.call('release', SCRIPTS.release, keys, [token, publish, releaseId]).then(isOne);
  }

  async handOver(
    keys: readonly string[],
    fromToken: string,
    toToken: string,
    ttl: number,
    expectedFence?: number,
    coveredFor = 0,
  ): Promise<HandOverResult> {
    this.assertAccepting();
    let reply: [number | string, number | string, (number | string)?];
    try {
      // Sent in this turn when the mode is known: an optimistic receiver's next commands queue behind it.
      const publish = this.publishNow() ?? (await this.publishCommand());
      const optimistic = expectedFence !== undefined;
      const args = [fromToken, toToken, ttl, FENCE_BLOCK, publish, optimistic ? String(expectedFence) : ''];
      // An optimistic receiver runs on its predecessor's lease until this arrives. With plenty of
      // that lease left, the command may gather until the turn's microtasks ran (the receiver
      // starts before the write's system call); with less, it leaves at once, so the receiver's
      // own code (maybe long synchronous work) cannot hold it back past the lease.
      const write = optimistic && coveredFor > HAND_OVER_GATHER_MARGIN ? 'gather' : 'urgent';
      reply = (await this.call('handOver', SCRIPTS.handOver, withFenceKeys(keys), args, write)) as typeof reply;
    } catch (error) {
      // The hand-over may still run later: undo it, and let go of the giver's keys as a release would.
      this.undo(keys, [toToken, fromToken]);
      throw error;
    }
    const owned = Number(reply[0]) === 1;
    const fence = Number(reply[1]);
    if (fence <= 0) return { owned, fence: null };
    if (this.replicaAck) {
      try {
        await this.acknowledged('handOver', keys, toToken);
      } catch {
        // Too few replicas: the receiver's grant was undone (and announced), so the receiver
        // tries again on its own, under the same rule, and reports the LockStoreError itself.
        return { owned, fence: null };
      }
    }
    // Shutting down: the receiver cannot be given a lock any more; its keys are let go of instead.
    if (this.state !== 'open') {
      this.undo(keys, [toToken]);
      return { owned, fence: null };
    }
    return { owned, fence, othersWaiting: this.othersWaiting(keys, reply[2]) };
  }

  async isLocked(keys: readonly string[]): Promise<boolean> {
    this.assertAccepting();
    const count = await this.calls.run('isLocked', () => this.client.exists(...keys));
    return count > 0;
  }

  async onRelease(keys: readonly string[], listener: ReleaseListener): Promise<() => void> {
    this.assertAccepting();
    return this.subscriber.listen(keys, listener);
  }

  /** Refuses new calls, lets those in flight finish (each is bounded), then closes what we opened. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    await this.calls.settled();
    this.state = 'closed';
    this.subscriber.close();
    if (this.owned) await this.quit();
    else this.connection.detach();
    this.calls.close();
  }

  private async quit(): Promise<void> {
    if (this.client.status === 'ready') {
      try {
        await this.calls.run('quit', () => this.client.quit());
        return;
      } catch (error) {
        this.logger.warn(QUIT_FAILED((error as Error).message));
      }
    }
    this.client.disconnect();
  }

  /** A grant that arrives while the store is closing is undone, and the caller told the store closed. */
  private refuseWhileClosing(keys: readonly string[], tokens: string[]): void {
    if (this.state === 'open') return;
    this.undo(keys, tokens);
    throw LockStoreError.closed();
  }

  /**
   * Waits for the `waitForReplicas` acknowledgement of `token`'s grant; when too few replicas
   * acknowledge (or WAIT fails), the grant is undone and the LockStoreError thrown.
   */
  private async acknowledged(operation: string, keys: readonly string[], token: string): Promise<void> {
    try {
      await this.replicaAck!.confirm(operation);
    } catch (error) {
      this.undo(keys, [token]);
      throw error;
    }
  }

  /** Queues a compare-and-delete per token: it only ever deletes what that token owns. */
  private undo(keys: readonly string[], tokens: string[]): void {
    if (this.state === 'closed') return;
    // Queued at once, behind the grant. Before the mode is known (a Cluster's first acquire),
    // PUBLISH: it works on every server, and a wake-up it misses costs a waiter one poll.
    const publish = PUBLISH_COMMAND[this.pubsub.current ?? 'classic'];
    for (const token of tokens) this.call('release', SCRIPTS.release, keys, [token, publish]).catch(() => undefined);
  }

  /**
   * From a hand-over's count of listeners: when this store is known to listen for the keys (its
   * waiters are queued and subscribed), it is one of them, so more is someone else. Unknown while
   * its own subscription is not confirmed (in flight, failed, reconnecting: the count may be
   * someone else alone), and on a Cluster with classic pub/sub, where a subscriber may be
   * connected to another node than the one counting.
   */
  private othersWaiting(keys: readonly string[], listeners: number | string | undefined): boolean | undefined {
    if (listeners === undefined) return undefined;
    if (isCluster(this.client) && this.pubsub.current !== 'sharded') return undefined;
    if (!this.subscriber.isListening(keys)) return undefined;
    return Number(listeners) > 1;
  }

  /** The publish command, when the mode is already known (no await: the call goes out in this turn). */
  private publishNow(): string | undefined {
    const known = this.pubsub.current;
    return known === undefined ? undefined : PUBLISH_COMMAND[known];
  }

  /** The publish command the scripts announce releases with (decided once per store). */
  private async publishCommand(): Promise<string> {
    return PUBLISH_COMMAND[this.pubsub.current ?? (await this.pubsub.mode())];
  }

  /**
   * Runs one of the registered scripts, bounded like every call. Open to a quorum's nodes, whose
   * QuorumStore keeps its own open/closing state. @internal
   */
  call(
    operation: string,
    script: ScriptName,
    keys: readonly string[],
    args: (string | number)[],
    /**
     * When the command leaves (see WriteCoalescer): 'batched' gathers while other calls are in
     * flight; 'urgent' is written at once, with whatever gathered before it; 'gather' waits for
     * the end of the turn even when nothing else is in flight.
     */
    write: 'batched' | 'urgent' | 'gather' = 'batched',
  ): Promise<unknown> {
    const command = (this.client as unknown as Record<string, ScriptCommand>)[script]!;
    // An urgent command never starts holding the socket: it only flushes what others gathered.
    if (write !== 'urgent') this.writes?.beforeSend(this.calls.inFlight, write === 'gather');
    const running = this.calls.run(operation, () => command.call(this.client, keys.length, ...keys, ...args));
    if (write === 'urgent') this.writes?.flush();
    return running;
  }

  private assertAccepting(): void {
    if (this.state !== 'open') throw LockStoreError.closed();
  }
}

type ScriptCommand = (numberOfKeys: number, ...args: (string | number)[]) => Promise<unknown>;

function isOne(reply: unknown): boolean {
  return Number(reply) === 1;
}
