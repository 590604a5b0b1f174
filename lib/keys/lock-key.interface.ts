import type { ExecutionContext } from '@nestjs/common';

/** One resource name, or several taken atomically as one lock. */
export type LockKey = string | readonly string[];

/**
 * A key computed from the call. On a provider method it receives the method's own arguments;
 * on a route handler it receives the request (HTTP; the message data for RPC/WebSockets)
 * and the ExecutionContext.
 */
export type LockKeyFactory<TArgs extends unknown[] = any[]> = (...args: TArgs) => LockKey;

/** A key as @WithLock accepts it: literal, template (`'order:{id}'`), array, or factory. */
export type LockKeySource<TArgs extends unknown[] = any[]> = LockKey | LockKeyFactory<TArgs>;

/** The arguments a key factory receives on a route handler. */
export type RouteKeyFactory<TRequest = any> = (request: TRequest, context: ExecutionContext) => LockKey;
