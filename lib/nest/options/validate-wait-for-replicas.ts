import { LockArgumentError } from '../../core/errors';
import type { RedisLockModuleOptions, WaitForReplicasOptions } from './redis-lock-module-options.interface';
import { WAIT_FOR_REPLICAS_ON_CLUSTER } from '../../core/lock.messages';
import { isCluster, type RedisConnection } from '../../stores/redis/create-redis-client';
import { describeValue } from '../../core/utils/describe-value';
import { integerInRange } from '../../core/options/validate-acquire-options';

/** The most replicas WAIT can be asked for (far above any real deployment). */
const MAX_REPLICAS = 1_000;

/**
 * `waitForReplicas`: only on the Redis store, never on a Cluster (WAIT would reach another node
 * than the script did), and with a WAIT timeout below `storeTimeout` (the call would time out first).
 */
export function validateWaitForReplicas(
  given: RedisLockModuleOptions,
  store: 'redis' | 'memory',
  storeTimeout: number,
): WaitForReplicasOptions | undefined {
  const option = given.waitForReplicas;
  if (option === undefined) return undefined;
  const name = 'options.waitForReplicas';
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new LockArgumentError(name, `expected { replicas, timeout }, got ${describeValue(option)}`);
  }
  for (const field of Object.keys(option)) {
    if (field !== 'replicas' && field !== 'timeout') throw new LockArgumentError(`${name}.${field}`, 'unknown option');
  }
  if (store !== 'redis') throw new LockArgumentError(name, "applies to the 'redis' store only");
  if (given.redis !== undefined && typeof given.redis === 'object' && isCluster(given.redis as RedisConnection)) {
    throw new LockArgumentError(name, WAIT_FOR_REPLICAS_ON_CLUSTER);
  }
  const replicas = integerInRange(option.replicas, `${name}.replicas`, 1, MAX_REPLICAS);
  const timeout = integerInRange(option.timeout, `${name}.timeout`, 1, Math.max(1, storeTimeout - 1));
  return { replicas, timeout };
}
