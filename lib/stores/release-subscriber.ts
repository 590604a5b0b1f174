import type { Logger } from '@nestjs/common';
import { Cluster, type Redis } from 'ioredis';
import { NOTIFICATIONS_UNAVAILABLE } from '../lock.messages';
import { runOutsideLockScope } from '../lock-scope';
import { releaseChannelOf } from '../keys/store-keys';
import type { BoundedCalls } from './bounded-calls';
import type { RedisConnection } from './create-redis-client';

/** Told of one release; `releaseId` names it when the releaser gave it a name, else ''. */
export type ReleaseListener = (releaseId: string) => void;

interface Channel {
  listeners: Set<ReleaseListener>;
  /** Settles once Redis confirmed the subscription (or it failed: waiters then rely on polling). */
  ready: Promise<void>;
}

/**
 * One subscriber connection per store, shared by every waiter: a channel is subscribed when its
 * first listener arrives and unsubscribed when its last one leaves. Created on first use, so a
 * process that never waits never opens it.
 */
export class ReleaseSubscriber {
  private connection: RedisConnection | undefined;
  private readonly channels = new Map<string, Channel>();

  private readonly keyPrefix: string;

  constructor(
    private readonly source: RedisConnection,
    private readonly calls: BoundedCalls,
    private readonly logger: Logger,
  ) {
    this.keyPrefix = String(source.options.keyPrefix ?? '');
  }

  /** Calls `listener` on each announced release of one of `storeKeys`; resolves once subscribed. */
  async listen(storeKeys: readonly string[], listener: ReleaseListener): Promise<() => void> {
    const connection = this.connect();
    // The release script publishes on its KEYS, which a client's keyPrefix has prefixed; SUBSCRIBE
    // takes channel names, which ioredis leaves alone, so the prefix is added here.
    const channelNames = storeKeys.map((key) => this.keyPrefix + releaseChannelOf(key));
    const joined = channelNames.map((name) => {
      let channel = this.channels.get(name);
      if (!channel) {
        channel = { listeners: new Set(), ready: this.subscribe(connection, name) };
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
        this.channels.delete(name);
        // Ordered after any earlier subscribe on the same connection, so the end state is right.
        connection.unsubscribe(name).catch(() => undefined);
      }
    };
  }

  close(): void {
    this.channels.clear();
    this.connection?.disconnect();
    this.connection = undefined;
  }

  private connect(): RedisConnection {
    if (this.connection) return this.connection;
    // Same server(s) and options as the command connection; ours to close. Whatever the user set,
    // it queues the first SUBSCRIBE until connected and resubscribes after a reconnect. Created
    // outside any lock scope: its events outlive the waiter that opened it.
    const connection = runOutsideLockScope(() => duplicateForSubscribing(this.source));
    connection.on('error', () => undefined); // the command connection reports outages already
    connection.on('message', (channel: string, message: string) => {
      const listeners = this.channels.get(channel)?.listeners;
      if (listeners) for (const listener of [...listeners]) listener(message);
    });
    this.connection = connection;
    return connection;
  }

  private async subscribe(connection: RedisConnection, name: string): Promise<void> {
    try {
      await this.calls.run('subscribe', () => connection.subscribe(name));
    } catch (error) {
      this.logger.debug?.(NOTIFICATIONS_UNAVAILABLE((error as Error).message));
    }
  }
}

function duplicateForSubscribing(source: RedisConnection): RedisConnection {
  if (source instanceof Cluster || (source as { isCluster?: boolean }).isCluster) {
    const cluster = source as Cluster;
    return cluster.duplicate([], {
      enableOfflineQueue: true,
      redisOptions: { ...cluster.options.redisOptions, autoResubscribe: true },
    });
  }
  return (source as Redis).duplicate({ enableOfflineQueue: true, autoResubscribe: true, lazyConnect: false });
}
