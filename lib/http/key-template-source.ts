import type { ExecutionContext } from '@nestjs/common';

interface HttpRequestLike {
  params?: Record<string, unknown>;
  query?: unknown;
  body?: unknown;
  user?: unknown;
  headers?: unknown;
}

/**
 * What a route handler's key factory receives first: the HTTP request (after guards, so `user`
 * is set), or the message data for RPC and WebSockets.
 */
export function routeKeyInput(context: ExecutionContext): unknown {
  switch (context.getType()) {
    case 'http':
      return context.switchToHttp().getRequest();
    case 'rpc':
      return context.switchToRpc().getData();
    case 'ws':
      return context.switchToWs().getData();
    default:
      return context.getArgs()[1] ?? context.getArgs()[0];
  }
}

/**
 * What a route's key template is filled from. HTTP: `{params.x}`, `{query.x}`, `{body.x}`,
 * `{user.x}`, `{headers.x}`, and route params directly (`{id}`). Other transports: the data's
 * own fields (`{orderId}`) or `{data.orderId}`.
 */
export function routeTemplateSource(context: ExecutionContext, input: unknown): Record<string, unknown> {
  if (context.getType() === 'http') {
    const request = (input ?? {}) as HttpRequestLike;
    return {
      ...request.params,
      params: request.params,
      query: request.query,
      body: request.body,
      user: request.user,
      headers: request.headers,
    };
  }
  const data = typeof input === 'object' && input !== null ? input : {};
  return { ...data, data: input };
}
