import { type ExecutionContext, HttpException } from '@nestjs/common';

/** nginx's status for a client that closed the request: nobody reads it, and Nest does not log it as a crash. */
const CLIENT_CLOSED_REQUEST = 499;

interface ClosableResponse {
  writableFinished?: boolean;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/**
 * An AbortSignal that aborts when an HTTP client disconnects before its response is written
 * (Express' response or Fastify's reply.raw), so a request still waiting for a lock stops waiting.
 * `dispose` removes the listener. Other transports get no signal.
 */
export function clientGoneSignal(context: ExecutionContext): { signal?: AbortSignal; dispose: () => void } {
  if (context.getType() !== 'http') return { dispose: noop };
  const reply = context.switchToHttp().getResponse<{ raw?: ClosableResponse } & Partial<ClosableResponse>>();
  const response = (reply?.raw ?? reply) as ClosableResponse | undefined;
  if (typeof response?.once !== 'function') return { dispose: noop };
  const controller = new AbortController();
  const onClose = () => {
    if (!response.writableFinished) controller.abort(new HttpException('The client disconnected while waiting for a lock', CLIENT_CLOSED_REQUEST));
  };
  response.once('close', onClose);
  return { signal: controller.signal, dispose: () => response.off('close', onClose) };
}

function noop(): void {}
