import { LockNotAcquiredError, LockStoreError } from '../errors';
import type { CancelSignal } from '../utils/cancellation';
import type { AcquireOutcome } from './lock-telemetry';

/**
 * How a failed acquisition ended, for telemetry: busy (skipped when the decorator skips busy
 * locks), unavailable (the store), aborted (the caller's signal), else error. @internal
 */
export function acquireOutcome(
  error: unknown,
  onBusy: 'throw' | 'skip',
  signal: CancelSignal | undefined,
): AcquireOutcome {
  if (error instanceof LockNotAcquiredError) return onBusy === 'skip' ? 'skipped' : 'busy';
  if (signal?.aborted) return 'aborted';
  if (error instanceof LockStoreError) return 'unavailable';
  return 'error';
}
