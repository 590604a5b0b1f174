import type { Logger } from '@nestjs/common';
import type { LockStore } from '../interfaces/lock-store.interface';
import type { ResolvedModuleOptions } from '../validation/validate-module-options';
import { createRedisClient } from './create-redis-client';
import { MemoryStore } from './memory.store';
import { RedisStore } from './redis.store';

export function createLockStore(options: ResolvedModuleOptions, logger: Logger): LockStore {
  if (options.store === 'memory') return new MemoryStore();
  const { client, owned } = createRedisClient(options.redis, logger);
  return new RedisStore(client, owned, options.storeTimeout, logger, options.waitForReplicas);
}
