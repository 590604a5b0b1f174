import { IntrinsicException } from '@nestjs/common';

/**
 * What LockInterceptor throws when an HTTP route under `onBusy: 'skip'` found its lock busy: the
 * route's LockExceptionFilter answers it with 204 No Content. An exception, because Nest sends a
 * handler's result with the route's own status (201 or 200), which an interceptor cannot change;
 * a filter answers with a status of its own. Intrinsic: never logged as a crash.
 */
export class RouteSkipped extends IntrinsicException {
  constructor() {
    super('Skipped: the lock is busy');
    this.name = 'RouteSkipped';
  }
}
