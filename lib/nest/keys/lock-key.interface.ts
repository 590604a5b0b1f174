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

declare const ROUTE_KEY: unique symbol;

/**
 * A route handler's key factory, marked by `requestKey()`: it receives the request (or message
 * data) and the ExecutionContext, so @WithLock does not check it against the method's parameters.
 */
export type RequestKeyFactory<TRequest = any> = RouteKeyFactory<TRequest> & { readonly [ROUTE_KEY]: true };

/**
 * A method decorator for a key factory of the method's own arguments: it compiles only on a
 * method whose parameters the factory accepts (same types, no parameter the method lacks).
 */
export type KeyFactoryDecorator<TArgs extends unknown[]> = <TMethod extends (...args: any[]) => unknown>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<TMethod> & KeyFactoryFits<TArgs, TMethod>,
) => void;

/** `unknown` when a factory of `TArgs` can be called with the method's arguments; an explanation otherwise. */
export type KeyFactoryFits<TArgs extends unknown[], TMethod extends (...args: any[]) => unknown> = [
  (...args: TArgs) => LockKey,
] extends [(...args: Parameters<TMethod>) => LockKey]
  ? unknown
  : {
      'the key factory must accept the method arguments; for a route handler wrap it in requestKey()': {
        factory: TArgs;
        method: Parameters<TMethod>;
      };
    };
