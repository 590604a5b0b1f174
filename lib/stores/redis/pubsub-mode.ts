import type { BoundedCalls } from './bounded-calls';
import { isCluster, type RedisConnection } from './create-redis-client';

/**
 * How releases are announced. `sharded` (SPUBLISH / SSUBSCRIBE): on a Redis Cluster of Redis 7 or
 * later, where a channel belongs to the shard of its slot, so a release reaches only the nodes of
 * its lock key's shard. `classic` (PUBLISH / SUBSCRIBE) everywhere else: a single Redis or Sentinel
 * deployment (nothing to shard), and a Cluster of older servers (PUBLISH is broadcast to every node).
 */
export type PubSubMode = 'classic' | 'sharded';

/** The publish command the release and hand-over scripts are given for each mode. */
export const PUBLISH_COMMAND: Record<PubSubMode, string> = { classic: 'publish', sharded: 'spublish' };

/** The first Redis version with sharded pub/sub. */
const SHARDED_SINCE_MAJOR = 7;

/**
 * Decides a store's mode once: `classic` at once for a single Redis; for a Cluster, from the
 * server version one node reports (the first call that needs it pays one INFO round trip). A
 * failed check is not remembered, so the next call asks again.
 */
export class PubSubModeDetector {
  private known: PubSubMode | undefined;
  private pending: Promise<PubSubMode> | undefined;

  constructor(
    private readonly client: RedisConnection,
    private readonly calls: BoundedCalls,
  ) {
    if (!isCluster(client)) this.known = 'classic';
  }

  /** The mode if already known (no await on the hot path), else undefined. */
  get current(): PubSubMode | undefined {
    return this.known;
  }

  /** The publish command, when the mode is already known (no await: the call goes out in this turn). */
  publishNow(): string | undefined {
    return this.known === undefined ? undefined : PUBLISH_COMMAND[this.known];
  }

  /** The publish command the scripts announce releases with (decided once per store). */
  async publishCommand(): Promise<string> {
    return PUBLISH_COMMAND[this.known ?? (await this.mode())];
  }

  mode(): Promise<PubSubMode> {
    if (this.known) return Promise.resolve(this.known);
    this.pending ??= this.detect().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async detect(): Promise<PubSubMode> {
    // SSUBSCRIBE must reach the slot's own node, which ioredis' Cluster does only with its sharded
    // subscribers (ioredis 6; late 5.x). Without them, both sides stay classic.
    if (!hasShardedSubscribers(this.client)) return (this.known = 'classic');
    const info = await this.calls.run('info', () => this.client.info('server'));
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
    this.known = major >= SHARDED_SINCE_MAJOR ? 'sharded' : 'classic';
    return this.known;
  }
}

/** Whether this client's copy of ioredis has sharded subscribers (the `shardedSubscribers` option). */
function hasShardedSubscribers(client: RedisConnection): boolean {
  const cluster = client as unknown as { createShardedSubscriberGroup?: unknown };
  return typeof cluster.createShardedSubscriberGroup === 'function';
}
