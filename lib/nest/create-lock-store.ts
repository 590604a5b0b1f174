import type { LockLogger } from '../core/lock-logger';
import type { LockStore } from '../stores/lock-store.interface';
import type { ResolvedModuleOptions } from './options/validate-module-options';
import { createRedisClient } from '../stores/redis/create-redis-client';
import { MemoryStore } from '../stores/memory/memory.store';
import { QuorumStore } from '../stores/quorum/quorum.store';
import { RedisStore } from '../stores/redis/redis.store';

/** The store the options select: memory, one Redis (or Cluster), or a quorum of independent masters. */
export function createLockStore(options: ResolvedModuleOptions, logger: LockLogger): LockStore {
  if (options.store === 'memory') return new MemoryStore();
  const redisStore = (option: unknown, waitForReplicas = options.waitForReplicas) => {
    const { client, owned } = createRedisClient(option as Parameters<typeof createRedisClient>[0]);
    return new RedisStore(client, owned, options.storeTimeout, logger, waitForReplicas);
  };
  if (Array.isArray(options.redis)) return new QuorumStore(options.redis.map((node) => redisStore(node, undefined)));
  return redisStore(options.redis);
}
