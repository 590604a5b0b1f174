import type { RedisLockModuleOptions } from '../lib';

/** Redis when REDIS_URL is set (share locks across replicas), otherwise the in-process memory store. */
export function lockStoreConfig(env: NodeJS.ProcessEnv = process.env): RedisLockModuleOptions {
  return env.REDIS_URL ? { redis: env.REDIS_URL, storeTimeout: 2_000 } : { store: 'memory' };
}

export function describeStore(env: NodeJS.ProcessEnv = process.env): string {
  return env.REDIS_URL ? `Redis at ${env.REDIS_URL}` : 'the in-memory store (set REDIS_URL to use Redis)';
}
