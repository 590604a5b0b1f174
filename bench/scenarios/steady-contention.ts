import type { LockAdapter } from '../adapters';
import { percentile } from '../stats';
import { holdFor, now } from '../timing';

export interface SteadyContentionResult {
  sectionsPerSec: number;
  /** Share of the wall time during which some caller held the lock. */
  heldShare: number;
  /** Share of handoffs that went to a caller other than the one that just released. */
  handoffToOther: number;
  waitP99: number;
  waitMax: number;
  failures: number;
}

/** steady-contention: `callers` callers x `sections` critical sections of `holdMs` on one key, in this process. */
export async function steadyContention(
  adapter: LockAdapter,
  round: number,
  callers: number,
  sections: number,
  holdMs: number,
  /** Callers stop starting sections after this long (ms): libraries that keep failing cannot stall the run. */
  budget: number,
): Promise<SteadyContentionResult> {
  const key = `steady-contention:${round}`;
  const intervals: { caller: number; start: number; end: number }[] = [];
  const waits: number[] = [];
  let failures = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; i < sections && now() - start < budget; i++) {
        const asked = now();
        let held;
        try {
          held = await adapter.acquire(key, 10_000, budget);
        } catch {
          failures++;
          continue;
        }
        const got = now();
        waits.push(got - asked);
        await holdFor(holdMs);
        intervals.push({ caller, start: got, end: now() });
        await held.release();
      }
    }),
  );
  const wall = now() - start;
  intervals.sort((a, b) => a.start - b.start);
  const heldTime = intervals.reduce((sum, interval) => sum + (interval.end - interval.start), 0);
  let toOther = 0;
  for (let i = 1; i < intervals.length; i++) if (intervals[i]!.caller !== intervals[i - 1]!.caller) toOther++;
  return {
    sectionsPerSec: intervals.length / (wall / 1000),
    heldShare: heldTime / wall,
    handoffToOther: intervals.length > 1 ? toOther / (intervals.length - 1) : 0,
    waitP99: percentile(waits, 99),
    waitMax: Math.max(...waits),
    failures,
  };
}
