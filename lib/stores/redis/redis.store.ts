import type { LockLogger } from '../../core/lock-logger';
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
import { FENCE_BLOCK, HAND_OVER_GATHER_MARGIN, WRITER_WAITING_MARK } from '../../core/tuning';
import { RedisShares } from './redis-shares';
import { BoundedCalls, neverSent } from './bounded-calls';
import { ConnectionWatch } from './connection-watch';
import { LateGrants } from './late-grants';
import { WriteCoalescer } from './write-coalescer';
import { isCluster, type RedisConnection } from './create-redis-client';
import { servesReady } from './serving-connection';
import { PubSubModeDetector } from './pubsub-mode';
import { ScriptCalls, type WriteMode } from './script-calls';
import { ReleaseSubscriber } from './release-subscriber';
import { ReplicaAcknowledgement } from './replica-acknowledgement';
import { redisCapabilities } from './redis-capabilities';
import type { WaitForReplicasOptions } from './redis-options';
import { SCRIPTS, type ScriptName, defineScripts } from './script-commands';
import { withFenceKeys } from '../../core/keys/store-keys';
import { forceReleaseKeys, inspectKeys } from './operator-replies';
import { othersWaiting } from './others-waiting';
import { quitClient } from './quit-client';
import { undoGrants } from './undo-grants';
import { warmSlotTags } from '../../core/keys/slot-tags';

/** Locks in one Redis (or one Redis Cluster), each step one atomic script sent as EVALSHA. */
export class RedisStore implements LockStore {
  /** While closing, calls in flight finish, and a grant that arrives then is undone. */
  private readonly life = new StoreLifeCycle();
  /** See redisCapabilities: less under waitForReplicas. */
  readonly capabilities: StoreCapabilities;
  private readonly subscriber: ReleaseSubscriber;
  private readonly calls: BoundedCalls;
  private readonly connection: ConnectionWatch;
  private readonly lateGrants = new LateGrants((keys, token) => this.undo(keys, [token]));
  private readonly scripts: ScriptCalls;
  private readonly pubsub: PubSubModeDetector;
  /** The `waitForReplicas` rule, when set: grants count only once replicas acknowledged them. */
  private readonly replicaAck: ReplicaAcknowledgement | undefined;
  /** Permits and readers (see redis-shares.ts). */
  private readonly shares = new RedisShares({
    call: (...call) => this.call(...call),
    publishCommand: () => this.pubsub.publishCommand(),
    isOpen: () => this.life.state === 'open',
  });

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
    this.scripts = new ScriptCalls(client, this.calls, isCluster(client) ? undefined : new WriteCoalescer(client));
    this.pubsub = new PubSubModeDetector(client, this.calls);
    this.subscriber = new ReleaseSubscriber(client, this.calls, this.pubsub, logger);
    this.replicaAck = waitForReplicas && new ReplicaAcknowledgement(client, this.calls, waitForReplicas);
    this.capabilities = redisCapabilities(this.replicaAck !== undefined);
  }

  /** Not while the connection serving `keys` is not ready (see servesReady). */
  optimisticNow(keys: readonly string[]): boolean {
    return this.capabilities.optimisticHandOver && servesReady(this.client, keys);
  }

  tryAcquire(request: LeaseRequest): Promise<AcquireAttempt> {
    if (this.life.state !== 'open') return Promise.reject(LockStoreError.closed());
    if (request.kind !== 'mutex') return this.shares.tryAcquire(request);
    const { keys, token, ttl } = request;
    const watched = this.lateGrants.sending(token);
    const args = [token, ttl, FENCE_BLOCK, WRITER_WAITING_MARK];
    // Not async: the uncontended acquire is this call and one continuation.
    return this.call('acquire', SCRIPTS.acquire, withFenceKeys(keys), args).then(
      (reply) => this.acquireAnswered(keys, token, Number(reply), watched),
      (error: unknown) => {
        // A timed-out acquire may still run later (ioredis resends its offline queue on reconnect, a
        // Cluster retries a redirection): undone at once, queued behind it, and again once it ran if
        // that may have overtaken it. A call the refused connection answered was never sent.
        if (!neverSent(error)) this.undo(keys, [token]);
        this.lateGrants.failed(keys, token, error, watched);
        throw error;
      },
    );
  }

  /** A grant counts once replicas acknowledged it (waitForReplicas), and only while the store is open. */
  private acquireAnswered(keys: readonly string[], token: string, reply: number, watched: boolean) {
    if (watched) this.lateGrants.answered(keys, token, reply > 0);
    if (reply <= 0) return { fence: null, remaining: -reply };
    if (!this.replicaAck) return this.acquired(keys, token, reply);
    return this.replicaAck
      .confirm('acquire', () => this.undo(keys, [token]))
      .then(() => this.acquired(keys, token, reply));
  }

  /** A grant that arrives while the store is closing is undone, and the caller told it is closed. */
  private acquired(keys: readonly string[], token: string, fence: number): AcquireAttempt {
    if (this.life.state !== 'open') {
      this.undo(keys, [token]);
      throw LockStoreError.closed();
    }
    return { fence };
  }

  async extend(request: LeaseRequest): Promise<boolean> {
    this.life.assertOpen();
    if (request.kind !== 'mutex') return this.shares.extend(request);
    const { keys, token, ttl } = request;
    return Number(await this.call('extend', SCRIPTS.extend, keys, [token, ttl])) === 1;
  }

  release(request: ReleaseRequest): Promise<boolean> {
    // Welcome until the very end: while closing, in-flight calls finish and grants are undone.
    if (this.life.state === 'closed') return Promise.reject(LockStoreError.closed());
    if (request.kind !== 'mutex') return this.shares.release(request);
    const { keys, token, releaseId = '' } = request;
    // Not async: the hot path's release goes out in this turn, with no promise of its own.
    const publish = this.pubsub.publishNow();
    if (publish === undefined)
      return this.pubsub.publishCommand().then((known) => this.sendRelease(keys, token, known, releaseId));
    return this.sendRelease(keys, token, publish, releaseId);
  }

  private sendRelease(keys: readonly string[], token: string, publish: string, releaseId: string): Promise<boolean> {
    return this.call('release', SCRIPTS.release, keys, [token, publish, releaseId]).then(
      (reply) => Number(reply) === 1,
    );
  }

  async handOver(request: HandOverRequest): Promise<HandOverResult> {
    this.life.assertOpen();
    if (request.kind !== 'mutex') return this.shares.handOver(request);
    const { keys, from: fromToken, to: toToken, ttl, optimistic } = request;
    const watched = this.lateGrants.sending(toToken);
    let reply: [number | string, number | string, (number | string)?];
    try {
      // Sent in this turn when the mode is known: an optimistic receiver's next commands queue behind it.
      const publish = this.pubsub.publishNow() ?? (await this.pubsub.publishCommand());
      const args = [fromToken, toToken, ttl, FENCE_BLOCK, publish, optimistic ? String(optimistic.expectedFence) : ''];
      // An optimistic receiver runs on its predecessor's lease until this arrives. With plenty of
      // that lease left, the command may gather until the turn's microtasks ran (the receiver
      // starts before the write's system call); with less, it leaves at once, so the receiver's
      // own code (maybe long synchronous work) cannot hold it back past the lease.
      const write = optimistic && optimistic.coveredFor > HAND_OVER_GATHER_MARGIN ? 'gather' : 'urgent';
      reply = (await this.call('handOver', SCRIPTS.handOver, withFenceKeys(keys), args, write)) as typeof reply;
    } catch (error) {
      // The hand-over may still run later: undo it, and let go of the giver's keys as a release would.
      this.undo(keys, [toToken, fromToken]);
      this.lateGrants.failed(keys, toToken, error, watched);
      throw error;
    }
    const owned = Number(reply[0]) === 1;
    const fence = Number(reply[1]);
    if (watched) this.lateGrants.answered(keys, toToken, fence > 0);
    if (fence <= 0) return { owned, fence: null };
    if (this.replicaAck) {
      try {
        await this.replicaAck.confirm('handOver', () => this.undo(keys, [toToken]));
      } catch {
        // Too few replicas: the receiver's grant was undone (and announced), so the receiver
        // tries again on its own, under the same rule, and reports the LockStoreError itself.
        return { owned, fence: null };
      }
    }
    // Shutting down: the receiver cannot be given a lock any more; its keys are let go of instead.
    if (this.life.state !== 'open') {
      this.undo(keys, [toToken]);
      return { owned, fence: null };
    }
    return { owned, fence, othersWaiting: othersWaiting(this.client, this.pubsub, this.subscriber, keys, reply[2]) };
  }

  async isLocked(keys: readonly string[]): Promise<boolean> {
    this.life.assertOpen();
    const count = await this.calls.run('isLocked', () => this.client.exists(...keys));
    return count > 0;
  }

  /** One holding per holder: a mutex, or each permit or reader (see operator-scripts.ts). */
  async inspect({ keys }: LockTarget): Promise<KeyHolding[]> {
    this.life.assertOpen();
    return inspectKeys((key) => this.call('inspect', SCRIPTS.inspect, [key], []), keys);
  }

  /** Frees a mutex or every share of each key. */
  async forceRelease({ keys, releaseId = '' }: ForceReleaseRequest): Promise<ForcedRelease[]> {
    this.life.assertOpen();
    const args = [await this.pubsub.publishCommand(), releaseId];
    return forceReleaseKeys((key) => this.call('forceRelease', SCRIPTS.forceRelease, [key], args), keys);
  }

  async onRelease(keys: readonly string[], listener: ReleaseListener): Promise<() => void> {
    this.life.assertOpen();
    return this.subscriber.listen(keys, listener);
  }

  /** Refuses new calls, lets those in flight finish (each is bounded), then closes what we opened. */
  close(): Promise<void> {
    return this.life.close(
      () => this.calls.settled(),
      () => this.letGo(),
    );
  }

  private async letGo(): Promise<void> {
    this.subscriber.close();
    if (this.owned) await quitClient(this.client, this.calls, this.logger);
    else this.connection.detach();
    this.calls.close();
  }

  /** Queues a compare-and-delete per token (see undoGrants). */
  private undo(keys: readonly string[], tokens: string[]): void {
    if (this.life.state !== 'closed') undoGrants((...call) => this.call(...call), this.pubsub, keys, tokens);
  }

  /**
   * Runs one of the registered scripts, bounded like every call (see ScriptCalls). Open to a
   * quorum's nodes, whose QuorumStore keeps its own life cycle. @internal
   */
  call(
    operation: string,
    script: ScriptName,
    keys: readonly string[],
    args: (string | number)[],
    write?: WriteMode,
  ): Promise<unknown> {
    return this.scripts.run(operation, script, keys, args, write);
  }
}
