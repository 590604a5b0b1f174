import type { LockKey, RequestKeyFactory } from './lock-key.interface';
import type { ExecutionContext } from '@nestjs/common';

/**
 * Marks a route handler's key factory: `@WithLock(requestKey((req: Request) => `tenant:${req.get('x-tenant')}`))`.
 * It receives the request (HTTP; the message data for RPC and WebSockets) and the ExecutionContext
 * instead of the method's arguments, so it is not type-checked against them. The same function,
 * returned as is.
 */
export function requestKey<TRequest = any>(
  factory: (request: TRequest, context: ExecutionContext) => LockKey,
): RequestKeyFactory<TRequest> {
  return factory as RequestKeyFactory<TRequest>;
}
