import { type ExecutionContext, HttpException } from '@nestjs/common';

/** nginx's status for a client that closed the request: nobody reads it, and Nest does not log it as a crash. */
const CLIENT_CLOSED_REQUEST = 499;

interface ClosableResponse {
  writableFinished?: boolean;
  destroyed?: boolean;
  socket?: { destroyed?: boolean } | null;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/**
 * Watches an HTTP client (Express' response or Fastify's reply.raw) for a disconnect before its
 * response is written, so a request still waiting for a lock stops waiting. Returns the function
 * that starts watching (it returns the one that stops), or undefined for other transports.
 */
export function watchClientGone(
  context: ExecutionContext,
): ((cancel: (reason: unknown) => void) => () => void) | undefined {
  if (context.getType() !== 'http') return undefined;
  const reply = context.switchToHttp().getResponse<{ raw?: ClosableResponse } & Partial<ClosableResponse>>();
  const response = (reply?.raw ?? reply) as ClosableResponse | undefined;
  if (typeof response?.once !== 'function') return undefined;
  return (cancel) => {
    const gone = () =>
      cancel(new HttpException('The client disconnected while waiting for a lock', CLIENT_CLOSED_REQUEST));
    // It may have left before anyone watched.
    if (!response.writableFinished && (response.destroyed || response.socket?.destroyed)) gone();
    const onClose = () => {
      if (!response.writableFinished) gone();
    };
    response.once('close', onClose);
    return () => response.off('close', onClose);
  };
}
