import type { ExecutionContext } from '@nestjs/common';
import type { KeyLookup } from '../../core/keys/resolve-key-template';

interface HttpRequestLike {
  params?: Record<string, unknown>;
  query?: unknown;
  body?: unknown;
  user?: unknown;
  headers?: unknown;
}

/**
 * What a route handler's key factory receives first: the HTTP request (after guards, so `user`
 * is set), the message data for RPC and WebSockets, or a GraphQL resolver's arguments (a resolver
 * is called with (root, args, context, info); read directly, so @nestjs/graphql stays optional).
 */
export function routeKeyInput(context: ExecutionContext): unknown {
  switch (context.getType<string>()) {
    case 'http':
      return context.switchToHttp().getRequest();
    case 'rpc':
      return context.switchToRpc().getData();
    case 'ws':
      return context.switchToWs().getData();
    case 'graphql':
      return context.getArgs()[1];
    default:
      return context.getArgs()[1] ?? context.getArgs()[0];
  }
}

const REQUEST_PARTS = new Set(['params', 'query', 'body', 'user', 'headers']);

/**
 * How a route's key template reads the call. HTTP: `{params.x}`, `{query.x}`, `{body.x}`,
 * `{user.x}`, `{headers.x}`, and route params directly (`{id}`). Other transports: the data's
 * (or the GraphQL arguments') own fields (`{orderId}`) or `{data.orderId}`.
 */
export function routeKeyLookup(context: ExecutionContext, input: unknown): KeyLookup {
  if (context.getType() === 'http') {
    const request = (input ?? {}) as HttpRequestLike & Record<string, unknown>;
    return (name) => (REQUEST_PARTS.has(name) ? request[name] : request.params?.[name]);
  }
  const data = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  return (name) => (name === 'data' ? input : data[name]);
}
