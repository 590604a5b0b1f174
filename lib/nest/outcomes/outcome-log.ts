import { Logger } from '@nestjs/common';
import { OUTAGE_ANSWERED, OUTCOME_ANSWERED } from '../../core/lock.messages';
import { OUTAGE_QUIET_PERIOD } from '../../core/tuning';
import type { LockOutcome } from './lock-outcome';

/**
 * Logs the outcomes transports answer as what they are, not as crashes: busy, lost and bad
 * arguments at debug level (a lost lock was already warned about when it was lost), and a store
 * outage as one warning with its cause, not one per request. One per LockService (per module
 * instance): an outage is its store's, and another application in the same process, on another
 * store, neither silences nor resets its warnings.
 */
export class OutcomeLog {
  private readonly logger = new Logger('RedisLock');
  /** When the last LOCK_UNAVAILABLE was answered (performance.now()), while an outage lasts. */
  private lastOutage: number | undefined;

  report(outcome: LockOutcome): void {
    const detail = outcome.error.message;
    if (outcome.code !== 'LOCK_UNAVAILABLE') return void this.logger.debug(OUTCOME_ANSWERED(outcome.code, detail));
    const now = performance.now();
    const ongoing = this.lastOutage !== undefined && now - this.lastOutage < OUTAGE_QUIET_PERIOD;
    this.lastOutage = now;
    if (ongoing) this.logger.debug(OUTCOME_ANSWERED(outcome.code, detail));
    else this.logger.warn(OUTAGE_ANSWERED(detail));
  }

  /** A lock was acquired: the next outage is a new one. */
  available(): void {
    this.lastOutage = undefined;
  }
}

/** For a LockExceptionFilter created by hand (`new LockExceptionFilter(adapter)`): no module to ask. */
export const unboundOutcomeLog = new OutcomeLog();
