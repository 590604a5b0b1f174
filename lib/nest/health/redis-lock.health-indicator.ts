import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { LockArgumentError } from '../../core/errors';
import { HEALTH_NO_ANSWER, HEALTH_UNREACHABLE } from '../../core/lock.messages';
import { LockService } from '../lock.service';
import { MAX_DURATION } from '../../core/defaults';
import { describeValue } from '../../core/utils/describe-value';
import { integerInRange } from '../../core/options/validate-acquire-options';

/** The key the round trip reads (an EXISTS: nothing is written). */
const PROBE_KEY = 'health:probe';

/** How long a check waits for Redis by default (ms): within common probe timeouts (1 s and up). */
export const DEFAULT_HEALTH_TIMEOUT = 500;

/** Options of `isHealthy`. */
export interface LockHealthCheckOptions {
  /** How long to wait for Redis' answer before reporting `down`, in ms. Default: 500. */
  timeout?: number;
  /** Also report the roles this replica leads (`leaderships: [{ name, term }]`). Default: false. */
  leaderships?: boolean;
}

/**
 * A @nestjs/terminus health indicator for the lock store: `up` with the store's round-trip time
 * (`roundTripMs`), or `down` with the reason once Redis has not answered within the check's own
 * `timeout` (500 ms by default, not the module's `storeTimeout`: probes give up sooner). Add it to
 * the providers of the module that holds your HealthController:
 * `() => this.lockHealth.isHealthy('locks')`.
 */
@Injectable()
export class RedisLockHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly locks: LockService,
  ) {}

  async isHealthy<const Key extends string = 'redis-lock'>(
    key: Key = 'redis-lock' as Key,
    options?: LockHealthCheckOptions,
  ): Promise<HealthIndicatorResult<Key>> {
    const timeout = timeoutOf(options);
    const indicator = this.health.check(key);
    const started = performance.now();
    const problem = await this.probe(timeout);
    if (problem !== undefined) return indicator.down({ message: problem });
    const roundTripMs = Math.round((performance.now() - started) * 10) / 10;
    if (options?.leaderships === true) return indicator.up({ roundTripMs, leaderships: this.locks.leaderships() });
    return indicator.up({ roundTripMs });
  }

  /** Undefined once Redis answered within `timeout`, or why it did not, worded for an operator. */
  private probe(timeout: number): Promise<string | undefined> {
    return new Promise((resolve) => {
      // The call itself stays bounded by storeTimeout; past `timeout` only its answer is ignored.
      const timer = setTimeout(() => resolve(HEALTH_NO_ANSWER(timeout)), timeout);
      this.locks
        .isLocked(PROBE_KEY)
        .then(
          () => resolve(undefined),
          (error: unknown) => resolve(unreachable(error)),
        )
        .finally(() => clearTimeout(timer));
    });
  }
}

function timeoutOf(options: LockHealthCheckOptions | undefined): number {
  if (options === undefined) return DEFAULT_HEALTH_TIMEOUT;
  if (typeof options !== 'object' || options === null) {
    throw new LockArgumentError('isHealthy options', `expected an object, got ${describeValue(options)}`);
  }
  if (options.leaderships !== undefined && typeof options.leaderships !== 'boolean') {
    throw new LockArgumentError('options.leaderships', `expected a boolean, got ${describeValue(options.leaderships)}`);
  }
  return options.timeout === undefined
    ? DEFAULT_HEALTH_TIMEOUT
    : integerInRange(options.timeout, 'options.timeout', 1, MAX_DURATION);
}

/** The cause behind a store error (the connection's own error), not the store operation that met it. */
function unreachable(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return HEALTH_UNREACHABLE(cause instanceof Error ? cause.message : String(cause));
}
