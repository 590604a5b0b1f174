import { IntrinsicException } from '@nestjs/common';
import { type LockOutcome, outcomeDetail } from './lock-outcome';

/**
 * GraphQL shape of a lock outcome. graphql-js copies an error's `extensions` onto the GraphQLError
 * it wraps it in, so this needs no `graphql` import: clients read `extensions.code`. Intrinsic, so
 * Nest does not log it as a crash; its stack is its first line only, so Apollo's
 * `includeStacktraceInErrorResponses` shows no code locations for an expected outcome.
 */
export class LockGraphQLError extends IntrinsicException {
  readonly extensions: { code: LockOutcome['code'] } & Pick<LockOutcome, 'lock' | 'argument'>;

  constructor(outcome: LockOutcome) {
    super(outcome.message, { cause: outcome.error });
    this.name = 'LockGraphQLError';
    this.extensions = { code: outcome.code, ...outcomeDetail(outcome) };
    this.stack = `${this.name}: ${this.message}`;
  }
}
