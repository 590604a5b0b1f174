import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { EMPTY, type Observable, catchError, throwError } from 'rxjs';
import { lockOutcomeOf } from './lock-outcome';
import type { OutcomeLog } from './outcome-log';
import { answerWs } from './ws-answer';

// Nest's metadata keys for @UseFilters and @Catch (the same in Nest 11 and 12, exported from
// different paths).
const EXCEPTION_FILTERS = '__exceptionFilters__';
const CATCHES = '__filterCatchExceptions__';

/**
 * The module's default lock-error answers for WebSocket gateways, where Nest applies no global
 * filter: a global interceptor that answers a lock error no filter of the handler or its gateway
 * would catch (a @WithLock handler's LockExceptionFilter answers its own). Other transports
 * pass straight through; the global LockExceptionFilter answers them.
 */
export class WsLockAnswers implements NestInterceptor {
  constructor(private readonly log: OutcomeLog) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType<string>() !== 'ws') return next.handle();
    return next.handle().pipe(
      catchError((error: unknown) => {
        const outcome = lockOutcomeOf(error);
        if (!outcome || filterCatches(context, error)) return throwError(() => error);
        this.log.report(outcome);
        answerWs(outcome, context);
        return EMPTY;
      }),
    );
  }
}

/** Whether a filter put on the handler or its class would catch `error` (Nest would ask it first). */
function filterCatches(context: ExecutionContext, error: unknown): boolean {
  const filters: unknown[] = [
    ...((Reflect.getMetadata(EXCEPTION_FILTERS, context.getHandler()) as unknown[] | undefined) ?? []),
    ...((Reflect.getMetadata(EXCEPTION_FILTERS, context.getClass()) as unknown[] | undefined) ?? []),
  ];
  return filters.some((filter) => {
    const type = typeof filter === 'function' ? filter : (filter as object).constructor;
    const caught =
      (Reflect.getMetadata(CATCHES, type) as (abstract new (...args: never[]) => unknown)[] | undefined) ?? [];
    return caught.length === 0 || caught.some((exception) => error instanceof exception);
  });
}

/** The interceptor registered when the module's default answers are off. */
export class NoLockAnswers implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}
