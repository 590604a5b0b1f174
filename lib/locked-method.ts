import { defer, isObservable, throwError } from 'rxjs';
import { LockError } from './errors';
import type { WithLockMetadata } from './interfaces/with-lock-metadata.interface';
import { resolveLockKey } from './keys/resolve-lock-key';
import { NO_RUNNER, OBSERVABLE_NOT_DECLARED } from './lock.messages';
import { claimRouteHandler } from './lock-scope';
import { lockServiceRegistry } from './lock-service.registry';

/**
 * Wraps a method so every call runs under its lock, through the same life cycle as routes
 * (LockService.run / run$). Key factories and templates see the method's own arguments
 * (`{0}`, `{0.id}`). When the LockInterceptor already holds the lock for this very route handler,
 * the call passes straight through.
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
      service.request(
        resolveLockKey(metadata.key, args, (name) => args[name as unknown as number]),
        metadata.options,
        metadata.method,
      );
    if (metadata.returnsObservable) {
      return service.run$(request, () => defer(() => original.apply(this, args)));
    }
    return service.run(request, () => {
      const result = original.apply(this, args);
      if (isObservable(result)) throw new LockError(OBSERVABLE_NOT_DECLARED(metadata.method));
      return result;
    });
  };
  return locked;
}
