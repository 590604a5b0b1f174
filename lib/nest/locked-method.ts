import { defer, isObservable, mergeMap, throwError } from 'rxjs';
import { LockError } from '../core/errors';
import type { WithLockMetadata } from './decorators/with-lock-metadata.interface';
import { resolveLockKey } from './keys/resolve-lock-key';
import { NO_RUNNER, OBSERVABLE_NOT_DECLARED } from '../core/lock.messages';
import { claimRouteHandler } from '../core/scope/lock-scope';
import { lockServiceRegistry } from './lock.service';

/**
 * Wraps a method so every call runs under its lock, through the same life cycle as routes
 * (LockService.run, or acquire$ + hold$). Key factories and templates see the method's own
 * arguments (`{0}`, `{0.id}`). When the LockInterceptor already holds the lock for this very
 * route handler, the call passes straight through.
 */
export function createLockedMethod(original: Function, metadata: WithLockMetadata): Function {
  const locked = function (this: unknown, ...args: unknown[]): unknown {
    if (claimRouteHandler(locked)) return original.apply(this, args);
    const service = lockServiceRegistry.resolve(this);
    if (!service) {
      const error = new LockError(NO_RUNNER(metadata.method));
      return metadata.returnsObservable ? throwError(() => error) : Promise.reject(error);
    }
    const request = () =>
      service.decoratedRequest(
        resolveLockKey(metadata.key, args, (name) => args[name as unknown as number]),
        metadata,
      );
    if (metadata.returnsObservable) {
      return service
        .acquire$(request)
        .pipe(mergeMap((lock) => service.hold$(lock, () => defer(() => original.apply(this, args)))));
    }
    let lockRequest;
    try {
      lockRequest = request();
    } catch (error) {
      return Promise.reject(error);
    }
    return service.run(lockRequest, () => {
      const result = original.apply(this, args);
      if (isObservable(result)) throw new LockError(OBSERVABLE_NOT_DECLARED(metadata.method));
      return result;
    });
  };
  return locked;
}
