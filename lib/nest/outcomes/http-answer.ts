import { HttpException } from '@nestjs/common';
import { type LockOutcome, lockOutcomeOf, outcomeDetail } from './lock-outcome';

const REASON: Record<LockOutcome['status'], string> = {
  400: 'Bad Request',
  409: 'Conflict',
  503: 'Service Unavailable',
};

/**
 * HTTP shape of a lock outcome: busy -> 409, store unavailable or lock lost -> 503, bad argument
 * -> 400; the body is `{ statusCode, error, message, code }` with `lock` (the user's key, never
 * the Redis key) or `argument`. Anything else is returned unchanged.
 */
export function toHttpException(error: unknown): unknown {
  const outcome = lockOutcomeOf(error);
  return outcome ? httpAnswer(outcome) : error;
}

export function httpAnswer(outcome: LockOutcome): HttpException {
  const { status, message, code } = outcome;
  return new HttpException(
    { statusCode: status, error: REASON[status], message, code, ...outcomeDetail(outcome) },
    status,
    { cause: outcome.error },
  );
}
