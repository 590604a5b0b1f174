import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { LockService } from '../lock.service';

/** The key the round trip reads (an EXISTS: nothing is written). */
const PROBE_KEY = 'health:probe';

/**
 * A @nestjs/terminus health indicator for the lock store: `up` with the store's round-trip time
 * (`roundTripMs`), or `down` with the reason once Redis has not answered within the module's
 * `storeTimeout`. Add it to the providers of the module that holds your HealthController:
 * `() => this.lockHealth.isHealthy('locks')`.
 */
@Injectable()
export class RedisLockHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly locks: LockService,
  ) {}

  async isHealthy<const Key extends string = 'redis-lock'>(key: Key = 'redis-lock' as Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const started = performance.now();
    try {
      await this.locks.isLocked(PROBE_KEY);
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
    return indicator.up({ roundTripMs: Math.round((performance.now() - started) * 10) / 10 });
  }
}
