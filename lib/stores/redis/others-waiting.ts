import { type RedisConnection, isCluster } from './create-redis-client';
import type { PubSubModeDetector } from './pubsub-mode';
import type { ReleaseSubscriber } from './release-subscriber';

/**
 * From a hand-over's count of listeners: when this store is known to listen for the keys (its
 * waiters are queued and subscribed), it is one of them, so more is someone else. Unknown while
 * its own subscription is not confirmed (in flight, failed, reconnecting: the count may be
 * someone else alone), and on a Cluster with classic pub/sub, where a subscriber may be
 * connected to another node than the one counting.
 */
export function othersWaiting(
  client: RedisConnection,
  pubsub: PubSubModeDetector,
  subscriber: ReleaseSubscriber,
  keys: readonly string[],
  listeners: number | string | undefined,
): boolean | undefined {
  if (listeners === undefined) return undefined;
  if (isCluster(client) && pubsub.current !== 'sharded') return undefined;
  if (!subscriber.isListening(keys)) return undefined;
  return Number(listeners) > 1;
}
