import { LockArgumentError } from '../../core/errors';
import type { RedisLockModuleOptions, WaitForReplicasOptions } from './redis-lock-module-options.interface';
import {
  DEFAULT_KEY_PREFIX,
  DEFAULT_SHUTDOWN_GRACE,
  DEFAULT_STORE_TIMEOUT,
  DEFAULT_TTL,
  DEFAULT_WAIT,
  MAX_DURATION,
  MIN_QUORUM_NODES,
} from '../../core/defaults';
import { integerInRange, validateTtl, validateWait } from '../../core/options/validate-acquire-options';
import { checkKeyText } from '../../core/keys/validate-keys';
import { validateWaitForReplicas } from './validate-wait-for-replicas';
import { describeValue } from '../../core/utils/describe-value';
import { defaultHolderId, validateHolderId } from '../../core/holder/holder-id';

/** Module options with every default filled in. */
export interface ResolvedModuleOptions {
  store: 'redis' | 'memory';
  redis: RedisLockModuleOptions['redis'];
  keyPrefix: string;
  /** Names this process in `inspect` (default: host name and pid). */
  holderId: string;
  ttl: number;
  wait: number;
  storeTimeout: number;
  onLockLost: RedisLockModuleOptions['onLockLost'];
  shutdownGrace: number;
  waitForReplicas: WaitForReplicasOptions | undefined;
  /** Record resolved keys as `lock.name` (the user opted in). */
  keyAsName: boolean;
  /** Register the global lock-error answers (default true). */
  exceptionFilter: boolean;
}

const KNOWN = new Set([
  'store',
  'redis',
  'keyPrefix',
  'ttl',
  'wait',
  'storeTimeout',
  'onLockLost',
  'shutdownGrace',
  'waitForReplicas',
  'telemetry',
  'exceptionFilter',
  'holderId',
]);

/** Validates RedisLockModule options at bootstrap, so a bad config fails the app's start, not a request. */
export function validateModuleOptions(options: RedisLockModuleOptions | undefined): ResolvedModuleOptions {
  const given: RedisLockModuleOptions = options ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new LockArgumentError('RedisLockModule options', `expected an object, got ${describeValue(given)}`);
  }
  for (const name of Object.keys(given)) {
    if (!KNOWN.has(name)) throw new LockArgumentError(`RedisLockModule options.${name}`, 'unknown option');
  }
  const store = given.store ?? 'redis';
  if (store !== 'redis' && store !== 'memory') {
    throw new LockArgumentError('options.store', `expected 'redis' or 'memory', got ${describeValue(store)}`);
  }
  const keyPrefix = given.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== 'string' || keyPrefix.length > 256) {
    throw new LockArgumentError(
      'options.keyPrefix',
      `expected a string of at most 256 characters, got ${describeValue(keyPrefix)}`,
    );
  }
  checkKeyText(keyPrefix, 'options.keyPrefix');
  if (given.onLockLost !== undefined && typeof given.onLockLost !== 'function') {
    throw new LockArgumentError('options.onLockLost', `expected a function, got ${describeValue(given.onLockLost)}`);
  }
  if (Array.isArray(given.redis) && given.redis.length < MIN_QUORUM_NODES) {
    throw new LockArgumentError(
      'options.redis',
      `a quorum needs at least ${MIN_QUORUM_NODES} independent Redis masters, got ${given.redis.length}`,
    );
  }
  const storeTimeout =
    given.storeTimeout === undefined
      ? DEFAULT_STORE_TIMEOUT
      : integerInRange(given.storeTimeout, 'options.storeTimeout', 1, MAX_DURATION);
  const keyAsName = checkTelemetry(given.telemetry);
  const exceptionFilter = given.exceptionFilter ?? true;
  if (typeof exceptionFilter !== 'boolean') {
    throw new LockArgumentError('options.exceptionFilter', `expected a boolean, got ${describeValue(exceptionFilter)}`);
  }
  return {
    store,
    keyAsName,
    exceptionFilter,
    redis: given.redis,
    keyPrefix,
    holderId: given.holderId === undefined ? defaultHolderId() : validateHolderId(given.holderId),
    ttl: given.ttl === undefined ? DEFAULT_TTL : validateTtl(given.ttl, 'options.ttl'),
    wait: given.wait === undefined ? DEFAULT_WAIT : validateWait(given.wait, 'options.wait'),
    storeTimeout,
    onLockLost: given.onLockLost,
    shutdownGrace:
      given.shutdownGrace === undefined
        ? DEFAULT_SHUTDOWN_GRACE
        : integerInRange(given.shutdownGrace, 'options.shutdownGrace', 0, MAX_DURATION),
    waitForReplicas: validateWaitForReplicas(given, store, storeTimeout),
  };
}

/** `telemetry: { keyAsName? }`; returns keyAsName. */
function checkTelemetry(telemetry: RedisLockModuleOptions['telemetry']): boolean {
  if (telemetry === undefined) return false;
  if (typeof telemetry !== 'object' || telemetry === null || Array.isArray(telemetry)) {
    throw new LockArgumentError('options.telemetry', `expected an object, got ${describeValue(telemetry)}`);
  }
  for (const name of Object.keys(telemetry)) {
    if (name !== 'keyAsName') throw new LockArgumentError(`options.telemetry.${name}`, 'unknown option');
  }
  const { keyAsName = false } = telemetry;
  if (typeof keyAsName !== 'boolean') {
    throw new LockArgumentError('options.telemetry.keyAsName', `expected a boolean, got ${describeValue(keyAsName)}`);
  }
  return keyAsName;
}
