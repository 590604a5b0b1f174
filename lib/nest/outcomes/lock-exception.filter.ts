import { type ArgumentsHost, Catch, Inject, Optional } from '@nestjs/common';
import { BaseExceptionFilter, type HttpAdapterHost } from '@nestjs/core';
import { throwError } from 'rxjs';
import { LockService } from '../lock.service';
import { LockGraphQLError } from './graphql-answer';
import { httpAnswer } from './http-answer';
import { HasLockOutcome, lockOutcomeOf } from './lock-outcome';
import { messageAnswer } from './message-answer';
import { type OutcomeLog, unboundOutcomeLog } from './outcome-log';
import { RouteSkipped } from './route-skipped';
import { answerWs } from './ws-answer';

/**
 * Answers lock errors (and AbortErrors caused by a lost lock) in the convention of the transport
 * they reach: HTTP 409/503/400, GraphQL `extensions.code`, an RPC error payload, the WebSocket
 * `exception` event (and the message's acknowledgement). Catches nothing else: other errors reach
 * the app's other filters and Nest's own. @WithLock attaches it to the routes it decorates (where
 * it also answers a route skipped by `onBusy: 'skip'` with 204), and RedisLockModule registers it
 * globally unless `exceptionFilter: false`.
 */
@Catch(HasLockOutcome, RouteSkipped)
export class LockExceptionFilter extends BaseExceptionFilter {
  /** The application's LockService when Nest creates the filter: outcomes are logged per application. */
  @Optional()
  @Inject(LockService)
  private readonly locks?: LockService;
  private log?: OutcomeLog;

  /** The module's global filter: built by a factory, so it is handed what Nest would inject. @internal */
  static forModule(adapterHost: HttpAdapterHost, log: OutcomeLog): LockExceptionFilter {
    const filter = new LockExceptionFilter();
    // BaseExceptionFilter reads the adapter from this property, which Nest injects into filters it creates.
    (filter as unknown as { httpAdapterHost: HttpAdapterHost }).httpAdapterHost = adapterHost;
    filter.log = log;
    return filter;
  }

  override catch(exception: unknown, host: ArgumentsHost): unknown {
    const type = host.getType<string>();
    if (exception instanceof RouteSkipped) return this.answerNoContent(host);
    const outcome = lockOutcomeOf(exception);
    if (!outcome) {
      if (type === 'http') return super.catch(exception, host);
      throw exception;
    }
    (this.log ?? this.locks?.outcomes ?? unboundOutcomeLog).report(outcome);
    switch (type) {
      case 'http':
        return super.catch(httpAnswer(outcome), host);
      case 'graphql':
        // A resolver's returned Error is thrown by graphql-js: the filter's answer becomes the field's error.
        return new LockGraphQLError(outcome);
      case 'ws':
        return answerWs(outcome, host);
      default: {
        // RPC: the returned stream's error is what the client receives.
        const payload = messageAnswer(outcome);
        return throwError(() => payload);
      }
    }
  }

  private answerNoContent(host: ArgumentsHost): void {
    const adapter = this.applicationRef ?? this.httpAdapterHost?.httpAdapter;
    const response: unknown = host.getArgByIndex(1);
    if (!adapter) return;
    if (adapter.isHeadersSent(response)) adapter.end(response);
    else adapter.reply(response, undefined, 204);
  }
}
