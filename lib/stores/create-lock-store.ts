import type { Logger } from '@nestjs/common';
import type { LockStore } from '../interfaces/lock-store.interface';
import type { ResolvedModuleOptions } from '../validation/validate-module-options';
import { createRedisClient } from './create-redis-client';
import { MemoryStore } from './memory.store';
import { QuorumStore } from './quorum/quorum.store';
import { RedisStore } from './redis.store';

/** The store the options select: memory, one Redis (or Cluster), or a quorum of independent masters. */
export function createLockStore(options: ResolvedModuleOptions, logger: Logger): LockStore {
  if (options.store === 'memory') return new MemoryStore();
  const redisStore = (option: unknown, waitForReplicas = options.waitForReplicas) => {
    const { client, owned } = createRedisClient(option as Parameters<typeof createRedisClient>[0]);
    return new RedisStore(client, owned, options.storeTimeout, logger, waitForReplicas);
  };
  if (Array.isArray(options.redis)) return new QuorumStore(options.redis.map((node) => redisStore(node, undefined)));
  return redisStore(options.redis);
}
