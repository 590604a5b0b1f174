import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, catchError, defaultIfEmpty, mergeMap, tap, throwError, throwIfEmpty } from 'rxjs';
import { LockedMethod } from './decorators/locked-method.metadata';
import { watchClientGone } from './outcomes/watch-client-gone';
import { resolveLockKey } from './keys/resolve-lock-key';
import { routeKeyInput, routeKeyLookup } from './keys/route-key-input';
import { LockService } from './lock.service';
import { RouteSkipped } from './outcomes/route-skipped';
import { toTransportError } from './outcomes/transport-answer';

/**
 * Holds a route's lock for the whole handling: acquire, then next.handle() inside the lock's
 * async scope, release in finalize (complete, error, or unsubscribe when the client goes away).
 * A client that disconnects while waiting cancels the wait. Applied by @WithLock on controller
 * methods (it does nothing on a handler without @WithLock), with the LockExceptionFilter that
 * answers RPC and WebSocket lock errors.
 */
@Injectable()
export class LockInterceptor implements NestInterceptor {
  constructor(
    private readonly locks: LockService,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    const metadata = this.reflector.get(LockedMethod, handler);
    if (!metadata) return next.handle();
    // A route's key factory gets (request, context); templates are filled from the request.
    const request = () => {
      const input = routeKeyInput(context);
      const keys = resolveLockKey(metadata.key, [input, context], routeKeyLookup(context, input));
      return this.locks.decoratedRequest(keys, metadata);
    };
    const outcomes = this.locks.outcomes;
    const skips = metadata.options.onBusy === 'skip';
    const http = context.getType() === 'http';
    let acquired = this.locks.acquire$(request, watchClientGone(context)).pipe(tap(() => outcomes.available()));
    // A skipped HTTP route answers 204 No Content, through the route's LockExceptionFilter.
    if (skips && http) acquired = acquired.pipe(throwIfEmpty(() => new RouteSkipped()));
    const handled = acquired.pipe(
      mergeMap((lock) => this.locks.hold$(lock, () => next.handle(), handler)),
      // Lock errors (acquisition, or a lost lock surfacing from the handler) answered as the
      // transport's convention says; the handler's other errors pass through unchanged.
      catchError((error: unknown) => throwError(() => toTransportError(context, error, outcomes))),
    );
    // Other transports still answer a skip (with an empty answer): Nest fails a response that never comes.
    return skips && !http ? handled.pipe(defaultIfEmpty(undefined)) : handled;
  }
}
