import { RETRY_MAX_DELAY, RETRY_MIN_DELAY } from '../tuning';

/**
 * Delay before the next attempt on a busy lock: exponential from RETRY_MIN_DELAY to
 * RETRY_MAX_DELAY with full jitter (so waiters in many processes do not retry in step),
 * never past the time left to wait.
 */
export function retryDelay(attempt: number, remaining: number): number {
  const ceiling = Math.min(RETRY_MAX_DELAY, RETRY_MIN_DELAY * 2 ** Math.min(attempt, 16));
  const delay = RETRY_MIN_DELAY + Math.random() * (ceiling - RETRY_MIN_DELAY);
  return Math.max(0, Math.min(Math.round(delay), remaining));
}
