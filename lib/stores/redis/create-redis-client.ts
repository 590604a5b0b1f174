import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { LockArgumentError } from '../../core/errors';
import { describeValue } from '../../core/utils/describe-value';

export type RedisConnection = Redis | Cluster;

/**
 * Turns the `redis` option into a client. Returns whether we created it: only those are ours to
 * close. The store watches its connection (see ConnectionWatch), whoever created it.
 */
export function createRedisClient(option: Redis | Cluster | RedisOptions | string | undefined): {
  client: RedisConnection;
  owned: boolean;
} {
  if (isRedisClient(option)) return { client: option, owned: false };
  let client: Redis;
  if (option === undefined) client = new Redis();
  else if (typeof option === 'string') client = new Redis(option);
  else if (typeof option === 'object' && option !== null && !Array.isArray(option)) client = new Redis(option);
  else
    throw new LockArgumentError('redis', `expected an ioredis client, options or a URL, got ${describeValue(option)}`);
  return { client, owned: true };
}

/** A client instance, also from another copy of ioredis (instanceof alone would miss it). */
function isRedisClient(option: unknown): option is RedisConnection {
  if (option instanceof Redis || option instanceof Cluster) return true;
  const candidate = option as Partial<Redis> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.defineCommand === 'function' &&
    typeof candidate.evalsha === 'function'
  );
}

/** A Cluster client, also from another copy of ioredis. */
export function isCluster(client: RedisConnection): client is Cluster {
  return client instanceof Cluster || (client as { isCluster?: boolean }).isCluster === true;
}
