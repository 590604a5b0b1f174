import type { ArgumentsHost } from '@nestjs/common';
import type { LockOutcome } from './lock-outcome';
import { messageAnswer } from './message-answer';

interface WsClient {
  emit?(event: string, payload: unknown): unknown;
  send?(data: string): unknown;
  readyState?: unknown;
}

/** Nest's WebSocket convention (the `exception` event), plus the ack a client waits for, if it sent one. */
export function answerWs(outcome: LockOutcome, host: ArgumentsHost): void {
  const payload = messageAnswer(outcome);
  const client = host.switchToWs().getClient<WsClient>();
  // Socket.IO emits; a native WebSocket (numeric readyState) is sent `{ event, data }`, as Nest does.
  if (typeof client.readyState === 'number') client.send?.(JSON.stringify({ event: 'exception', data: payload }));
  else client.emit?.('exception', payload);
  // Nest hands a Socket.IO handler (client, data, ack, pattern) when the client asked for an ack.
  const ack = host.getArgs()[2];
  if (typeof ack === 'function') ack(payload);
}
