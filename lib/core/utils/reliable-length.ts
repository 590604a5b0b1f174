import { DRIFT_FIXED, DRIFT_RATE } from '../tuning';

/** How much of a lease of `length` ms this process may rely on: less a clock-drift allowance. */
export function reliableLength(length: number): number {
  return length - Math.floor(length * DRIFT_RATE) - DRIFT_FIXED;
}
