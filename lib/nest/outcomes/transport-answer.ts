import type { ExecutionContext } from '@nestjs/common';
import { LockGraphQLError } from './graphql-answer';
import { httpAnswer } from './http-answer';
import { lockOutcomeOf } from './lock-outcome';
import type { OutcomeLog } from './outcome-log';

/**
 * What LockInterceptor throws for an error of its route: HTTP and GraphQL answers are exceptions
 * (so the app's own filters still see them); RPC and WebSocket answers go through the transport's
 * channel, so their lock errors pass on unchanged to the LockExceptionFilter @WithLock attaches.
 */
export function toTransportError(context: ExecutionContext, error: unknown, log: OutcomeLog): unknown {
  const type = context.getType<string>();
  if (type !== 'http' && type !== 'graphql') return error;
  const outcome = lockOutcomeOf(error);
  if (!outcome) return error;
  log.report(outcome);
  return type === 'http' ? httpAnswer(outcome) : new LockGraphQLError(outcome);
}
