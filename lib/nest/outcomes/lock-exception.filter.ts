import { type ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError } from 'rxjs';
import { LockGraphQLError } from './graphql-answer';
import { httpAnswer } from './http-answer';
import { type LockOutcome, LockOutcomeError, lockOutcomeOf } from './lock-outcome';
import { messageAnswer } from './message-answer';
import { outcomeLog } from './outcome-log';

interface WsClient {
  emit?(event: string, payload: unknown): unknown;
  send?(data: string): unknown;
  readyState?: unknown;
}

/**
 * Answers lock errors (and AbortErrors caused by a lost lock) in the convention of the transport
 * they reach: HTTP 409/503/400, GraphQL `extensions.code`, an RPC error payload, the WebSocket
 * `exception` event (and the message's acknowledgement). Catches nothing else: other errors reach
 * the app's other filters and Nest's own. @WithLock attaches it to the routes it decorates;
 * register it globally (`{ provide: APP_FILTER, useClass: LockExceptionFilter }`) so lock errors
 * from undecorated routes and services are answered too.
 */
@Catch(LockOutcomeError)
export class LockExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): unknown {
    const outcome = lockOutcomeOf(exception);
    const type = host.getType<string>();
    if (!outcome) {
      if (type === 'http') return super.catch(exception, host);
      throw exception;
    }
    outcomeLog.report(outcome);
    switch (type) {
      case 'http':
        return super.catch(httpAnswer(outcome), host);
      case 'graphql':
        // A resolver's returned Error is thrown by graphql-js: the filter's answer becomes the field's error.
        return new LockGraphQLError(outcome);
      case 'ws':
        return this.answerWs(outcome, host);
      default: {
        // RPC: the returned stream's error is what the client receives.
        const payload = messageAnswer(outcome);
        return throwError(() => payload);
      }
    }
  }

  /** Nest's WebSocket convention (the `exception` event), plus the ack a client waits for, if it sent one. */
  private answerWs(outcome: LockOutcome, host: ArgumentsHost): undefined {
    const payload = messageAnswer(outcome);
    const client = host.switchToWs().getClient<WsClient>();
    // Socket.IO emits; a native WebSocket (numeric readyState) is sent `{ event, data }`, as Nest does.
    if (typeof client.readyState === 'number') client.send?.(JSON.stringify({ event: 'exception', data: payload }));
    else client.emit?.('exception', payload);
    // Nest hands a Socket.IO handler (client, data, ack, pattern) when the client asked for an ack.
    const ack = host.getArgs()[2];
    if (typeof ack === 'function') ack(payload);
    return undefined;
  }
}
