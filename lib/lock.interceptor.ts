import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, defaultIfEmpty } from 'rxjs';
import { routeKeyInput, routeKeyLookup } from './http/route-key-input';
import { toHttpException } from './http/to-http-exception';
import { watchClientGone } from './http/watch-client-gone';
import type { WithLockMetadata } from './interfaces/with-lock-metadata.interface';
import { resolveLockKey } from './keys/resolve-lock-key';
import { LockService } from './lock.service';
import { WITH_LOCK_METADATA } from './redis-lock.constants';

/**
 * Holds a route's lock for the whole handling: acquire, then next.handle() inside the lock's async
 * scope, release in finalize (complete, error, or unsubscribe when the client goes away). A client
 * that disconnects while waiting cancels the wait. Applied by @WithLock on controller methods.
 * Subclass it and override the protected hooks to change how keys or errors are derived.
 */
@Injectable()
export class LockInterceptor implements NestInterceptor {
  constructor(
    protected readonly locks: LockService,
    protected readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    const metadata = this.reflector.get<WithLockMetadata | undefined>(WITH_LOCK_METADATA, handler);
    if (!metadata) return next.handle();
    const handled = this.locks.run$(
      () => this.locks.request(this.resolveKeys(metadata, context), metadata.options, metadata.method),
      () => next.handle(),
      {
        watchCancel: watchClientGone(context),
        routeHandler: handler,
        mapError: (error) => this.mapError(error, context),
      },
    );
    // A skipped route still answers (with an empty body): Nest fails a response that never comes.
    return metadata.options.onBusy === 'skip' ? handled.pipe(defaultIfEmpty(undefined)) : handled;
  }

  /** The route's keys: a factory gets (request, context); templates are filled from the request. */
  protected resolveKeys(metadata: WithLockMetadata, context: ExecutionContext): string[] {
    const input = routeKeyInput(context);
    return resolveLockKey(metadata.key, [input, context], routeKeyLookup(context, input));
  }

  /** Shapes acquisition failures for the transport: HTTP statuses for HTTP, unchanged elsewhere. */
  protected mapError(error: unknown, context: ExecutionContext): unknown {
    return context.getType() === 'http' ? toHttpException(error) : error;
  }
}
