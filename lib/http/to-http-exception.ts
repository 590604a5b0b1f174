import { BadRequestException, ConflictException, ServiceUnavailableException } from '@nestjs/common';
import { LockArgumentError, LockNotAcquiredError, LockStoreError } from '../errors';

/**
 * HTTP shape of the lock's own failures: busy -> 409 naming the lock (the user's key, never the
 * Redis key), store unreachable -> 503 (details stay in the server log), a key that cannot be
 * built from the request -> 400. Anything else is returned unchanged.
 */
export function toHttpException(error: unknown): unknown {
  if (error instanceof LockNotAcquiredError) {
    return new ConflictException({
      statusCode: 409,
      error: 'Conflict',
      message: error.message,
      lock: error.keys.length === 1 ? error.keys[0] : error.keys,
    });
  }
  if (error instanceof LockStoreError) {
    return new ServiceUnavailableException(
      { statusCode: 503, error: 'Service Unavailable', message: 'The lock service is unavailable' },
      { cause: error },
    );
  }
  if (error instanceof LockArgumentError) {
    return new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: error.message,
      argument: error.argument,
    });
  }
  return error;
}
