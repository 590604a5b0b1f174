import type { ReleaseRequest } from '../../stores/lock-store.interface';
import type { HandOverRun } from './hand-over-run';

/**
 * What a releasing lease tells the wait queues: the store's release request, plus enough to hand
 * its lock over at once. @internal
 */
export interface Releasing extends ReleaseRequest {
  readonly fence: number;
  /**
   * Monotonic time until which this process may rely on the lease to cover an optimistic
   * hand-over (0: it may not: not held, or its renewal is overdue).
   */
  readonly validUntil: number;
  /** The run of in-process hand-overs this lease continues (none: it was taken through the store). */
  readonly handOverRun: HandOverRun | undefined;
}
