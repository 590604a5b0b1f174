import type { Cluster } from 'ioredis';
import { hashSlot } from '../../core/keys/hash-slot';
import { isCluster, type RedisConnection } from './create-redis-client';

/**
 * Whether the connection that serves `keys` is ready now: the client's own, or on a Cluster (whose
 * status stays ready while one of its masters is down) the connection to the master of the keys'
 * slot, as the client's slot table names it. All keys of one lock share a slot. Not ready, an
 * optimistic hand-over's confirmation would wait offline as its receiver runs, and the server may
 * come back without the giver's lease.
 */
export function servesReady(client: RedisConnection, keys: readonly string[]): boolean {
  if (client.status !== 'ready') return false;
  if (!isCluster(client)) return true;
  const cluster = client as Cluster;
  const slot = hashSlot(String(cluster.options.keyPrefix ?? '') + keys[0]);
  const master = cluster.slots[slot]?.[0];
  if (master === undefined) return false;
  return cluster
    .nodes('master')
    .some((node) => `${node.options.host}:${node.options.port}` === master && node.status === 'ready');
}
