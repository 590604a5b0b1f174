import type { LockLogger } from '../../core/lock-logger';
import type { Cluster, Redis } from 'ioredis';
import { NOTIFICATIONS_UNAVAILABLE } from '../../core/lock.messages';
import { runOutsideLockScope } from '../../core/scope/lock-scope';
import { releaseChannelOf } from '../../core/keys/store-keys';
import { SUBSCRIPTION_LINGER } from '../../core/tuning';
import type { BoundedCalls } from './bounded-calls';
import { isCluster, type RedisConnection } from './create-redis-client';
import type { PubSubMode, PubSubModeDetector } from './pubsub-mode';

/** Told of one release; `releaseId` names it when the releaser gave it a name, else ''. */
export type ReleaseListener = (releaseId: string) => void;

interface Channel {
  listeners: Set<ReleaseListener>;
  /** Settles once Redis confirmed the subscription (or it failed: waiters then rely on polling). */
  ready: Promise<void>;
  /** Redis confirmed the subscription (false while in flight, or when it failed). */
  subscribed: boolean;
  /** Armed while no listener is left: the unsubscribe waits SUBSCRIPTION_LINGER for a new one. */
  lingering?: NodeJS.Timeout;
}

/**
 * One subscriber connection per store, shared by every waiter: a channel is subscribed when its
 * first listener arrives and unsubscribed SUBSCRIPTION_LINGER after its last one left. Created on first use, so a
 * process that never waits never opens it. In the `sharded` mode (a Redis 7 Cluster) channels are
 * SSUBSCRIBEd through ioredis' sharded subscribers: one connection per master, each subscribed
 * only to the channels of its own slots.
 */
export class ReleaseSubscriber {
  private connection: RedisConnection | undefined;
  private readonly channels = new Map<string, Channel>();

  private readonly keyPrefix: string;

  constructor(
    private readonly source: RedisConnection,
    private readonly calls: BoundedCalls,
    private readonly pubsub: PubSubModeDetector,
    private readonly logger: LockLogger,
  ) {
    this.keyPrefix = String(source.options.keyPrefix ?? '');
  }

  /** Calls `listener` on each announced release of one of `storeKeys`; resolves once subscribed. */
  async listen(storeKeys: readonly string[], listener: ReleaseListener): Promise<() => void> {
    let mode: PubSubMode;
    try {
      mode = await this.pubsub.mode();
    } catch (error) {
      this.logger.debug?.(NOTIFICATIONS_UNAVAILABLE((error as Error).message));
      return () => undefined; // the waiter polls
    }
    const connection = this.connect(mode);
    const sharded = mode === 'sharded';
    // The release script publishes on its KEYS, which a client's keyPrefix has prefixed; SUBSCRIBE
    // takes channel names, which ioredis leaves alone, so the prefix is added here.
    const channelNames = storeKeys.map((key) => this.channelOf(key));
    const joined = channelNames.map((name) => {
      let channel = this.channels.get(name);
      clearTimeout(channel?.lingering);
      if (channel) channel.lingering = undefined;
      else {
        channel = { listeners: new Set(), ready: this.subscribe(connection, name, sharded), subscribed: false };
        this.channels.set(name, channel);
      }
      channel.listeners.add(listener);
      return channel;
    });
    await Promise.all(joined.map((channel) => channel.ready));
    return () => {
      for (const name of channelNames) {
        const channel = this.channels.get(name);
        if (!channel?.listeners.delete(listener) || channel.listeners.size > 0) continue;
        if (!channel.subscribed) {
          this.drop(name, channel, connection, sharded);
          continue;
        }
        // A process taking a key again and again (callers taking turns empty its queue each time)
        // keeps its subscription: no churn, and a hand-over's count of listeners includes it.
        const drop = () => this.drop(name, channel, connection, sharded);
        channel.lingering = runOutsideLockScope(() => setTimeout(drop, SUBSCRIPTION_LINGER).unref());
      }
    };
  }

  private drop(name: string, channel: Channel, connection: RedisConnection, sharded: boolean): void {
    if (this.channels.get(name) !== channel || channel.listeners.size > 0) return;
    this.channels.delete(name);
    // Ordered after any earlier subscribe on the same connection, so the end state is right.
    (sharded ? connection.sunsubscribe(name) : connection.unsubscribe(name)).catch(() => undefined);
  }

  /**
   * True when this store is known to be listening for every one of `storeKeys` right now: each
   * subscription confirmed, and the subscriber connection up (not reconnecting).
   */
  isListening(storeKeys: readonly string[]): boolean {
    if ((this.connection as { status?: string } | undefined)?.status !== 'ready') return false;
    return storeKeys.every((key) => this.channels.get(this.channelOf(key))?.subscribed === true);
  }

  /** The channel name subscribed for `storeKey` (see listen). */
  private channelOf(storeKey: string): string {
    return this.keyPrefix + releaseChannelOf(storeKey);
  }

  close(): void {
    for (const channel of this.channels.values()) clearTimeout(channel.lingering);
    this.channels.clear();
    this.connection?.disconnect();
    this.connection = undefined;
  }

  private connect(mode: PubSubMode): RedisConnection {
    if (this.connection) return this.connection;
    // Same server(s) and options as the command connection; ours to close. Whatever the user set,
    // it queues the first SUBSCRIBE until connected and resubscribes after a reconnect. Created
    // outside any lock scope: its events outlive the waiter that opened it.
    const connection = runOutsideLockScope(() => duplicateForSubscribing(this.source, mode));
    connection.on('error', () => undefined); // the command connection reports outages already
    connection.on(mode === 'sharded' ? 'smessage' : 'message', (channel: string, message: string) => {
      const listeners = this.channels.get(channel)?.listeners;
      if (listeners) for (const listener of [...listeners]) listener(message);
    });
    this.connection = connection;
    return connection;
  }

  private async subscribe(connection: RedisConnection, name: string, sharded: boolean): Promise<void> {
    try {
      await this.calls.run('subscribe', () => (sharded ? connection.ssubscribe(name) : connection.subscribe(name)));
      const channel = this.channels.get(name);
      if (channel) channel.subscribed = true;
    } catch (error) {
      this.logger.debug?.(NOTIFICATIONS_UNAVAILABLE((error as Error).message));
    }
  }
}

function duplicateForSubscribing(source: RedisConnection, mode: PubSubMode): RedisConnection {
  if (isCluster(source)) {
    const cluster = source as Cluster;
    const redisOptions = { ...cluster.options.redisOptions, autoResubscribe: true };
    if (mode === 'classic') return cluster.duplicate([], { enableOfflineQueue: true, redisOptions });
    // SSUBSCRIBE names a channel as a key, which ioredis would prefix: names arrive prefixed already.
    return cluster.duplicate([], {
      enableOfflineQueue: true,
      shardedSubscribers: true,
      keyPrefix: '',
      redisOptions: { ...redisOptions, keyPrefix: '' },
    });
  }
  return (source as Redis).duplicate({ enableOfflineQueue: true, autoResubscribe: true, lazyConnect: false });
}
