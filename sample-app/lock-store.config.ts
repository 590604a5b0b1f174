import { Logger } from '@nestjs/common';
import type { LockLostEvent, RedisLockModuleOptions } from '../lib';

/** Redis when REDIS_URL is set (share locks across replicas), otherwise the in-process memory store. */
export function lockStoreConfig(env: NodeJS.ProcessEnv = process.env): RedisLockModuleOptions {
  const store: RedisLockModuleOptions = env.REDIS_URL
    ? { redis: env.REDIS_URL, storeTimeout: 2_000 }
    : { store: 'memory' };
  return { ...store, onLockLost: reportLostLock };
}

/** Where a real app would bump a metric or page someone: work under that lock is unprotected now. */
function reportLostLock({ key, reason, fence }: LockLostEvent): void {
  if (reason !== 'shutdown') new Logger('Locks').error(`Lost lock ${key} (fence ${fence}): ${reason}`);
}

export function describeStore(env: NodeJS.ProcessEnv = process.env): string {
  return env.REDIS_URL ? `Redis at ${env.REDIS_URL}` : 'the in-memory store (set REDIS_URL to use Redis)';
}
