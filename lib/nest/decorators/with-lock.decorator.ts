import { UseFilters, UseInterceptors } from '@nestjs/common';
import { isObservable, Observable } from 'rxjs';
import { LockArgumentError } from '../../core/errors';
import type {
  KeyFactoryDecorator,
  LockKey,
  LockKeyFactory,
  LockKeySource,
  RequestKeyFactory,
} from '../keys/lock-key.interface';
import type { WithLockMetadata } from './with-lock-metadata.interface';
import type { WithLockOptions } from '../../core/options/with-lock-options.interface';
import { LockInterceptor } from '../lock.interceptor';
import { createLockedMethod } from '../locked-method';
import { LockExceptionFilter } from '../outcomes/lock-exception.filter';
import { LockedMethod } from './locked-method.metadata';
import { copyMethodMetadata } from './copy-method-metadata';
import {
  type CheckedOptions,
  DECORATOR_OPTIONS,
  checkAcquireOptions,
  validateTtl,
} from '../../core/options/validate-acquire-options';
import { validateKeys } from '../../core/keys/validate-keys';
import { describeValue } from '../../core/utils/describe-value';

/**
 * Runs the method under a distributed lock: acquired before, renewed while it runs, released
 * however it ends (return, throw, Observable complete/error/unsubscribe).
 *
 * - On a controller route the LockInterceptor holds the lock; a key factory receives
 *   `(request, context)` and templates read the request: `'order:{id}'`, `'cart:{user.id}'`.
 * - On a provider method (service, @Cron job, queue processor) a key factory receives the
 *   method's own arguments and templates read them by position: `'invoice:{0}'`, `'{0.id}'`.
 *
 * A factory of the method's arguments is type-checked against the method's parameters; a route's
 * factory of the request is marked with `requestKey()`.
 *
 * @param key a key, a template, several keys (taken together), or a factory of the call.
 * @param ttlOrOptions the lease in ms, or { ttl, wait, autoRenew, minHold, maxHold, name, onBusy };
 *   unset values use the module's.
 */
export function WithLock<TRequest = any>(
  key: LockKey | RequestKeyFactory<TRequest>,
  ttlOrOptions?: number | WithLockOptions,
): MethodDecorator;
export function WithLock<TArgs extends unknown[]>(
  key: LockKeyFactory<TArgs>,
  ttlOrOptions?: number | WithLockOptions,
): KeyFactoryDecorator<TArgs>;
export function WithLock(key: LockKeySource, ttlOrOptions?: number | WithLockOptions): MethodDecorator {
  checkKeySource(key);
  const options = toOptions(ttlOrOptions);
  return (target, propertyKey, descriptor) => {
    const original = descriptor.value;
    if (typeof original !== 'function') {
      throw new LockArgumentError('@WithLock target', `${String(propertyKey)} is not a method`);
    }
    const returnType: unknown = Reflect.getMetadata('design:returntype', target, propertyKey);
    const metadata: WithLockMetadata = {
      key,
      options,
      method: `${(target as object).constructor?.name ?? 'anonymous'}.${String(propertyKey)}`,
      returnsObservable: isObservableType(returnType),
    };
    const wrapper = createLockedMethod(original, metadata);
    copyMethodMetadata(original, wrapper);
    descriptor.value = wrapper as typeof descriptor.value;
    LockedMethod(metadata)(target, propertyKey, descriptor);
    UseInterceptors(LockInterceptor)(target, propertyKey, descriptor);
    // RPC and WebSocket answers need the transport's channel, which only a filter is handed.
    UseFilters(LockExceptionFilter)(target, propertyKey, descriptor);
    return descriptor;
  };
}

/** Fails at class definition for keys that can never work; templates are filled and checked per call. */
function checkKeySource(key: unknown): void {
  if (typeof key !== 'function') validateKeys(key);
}

/** Checked once, when the class is defined; the module's defaults are merged per call. */
function toOptions(ttlOrOptions: unknown): CheckedOptions {
  if (ttlOrOptions === undefined) return {};
  if (typeof ttlOrOptions === 'number') return { ttl: validateTtl(ttlOrOptions, '@WithLock.ttl') };
  if (typeof ttlOrOptions !== 'object' || ttlOrOptions === null) {
    throw new LockArgumentError(
      '@WithLock options',
      `expected a ttl in ms or an options object, got ${describeValue(ttlOrOptions)}`,
    );
  }
  return checkAcquireOptions(ttlOrOptions, '@WithLock options', DECORATOR_OPTIONS);
}

function isObservableType(type: unknown): boolean {
  return (
    typeof type === 'function' &&
    (type === Observable || type.prototype instanceof Observable || isObservable(type.prototype))
  );
}
