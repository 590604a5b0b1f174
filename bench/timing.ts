import { performance } from 'node:perf_hooks';

/** A timestamp comparable across the processes of one machine (ms, sub-ms precision). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Holds for exactly `ms`: a timer for most of it, then yielding turns until the time is up, so a
 * "5 ms critical section" lasts 5 ms for every library (a bare setTimeout overshoots by 0.1-1 ms).
 */
export async function holdFor(ms: number): Promise<void> {
  const end = performance.now() + ms;
  if (ms > 2) await sleep(ms - 1.5);
  while (performance.now() < end) await new Promise((resolve) => setImmediate(resolve));
}

/** Waits until the shared timestamp `at` (for releasing callers in several processes together). */
export async function until(at: number): Promise<void> {
  const left = at - now();
  if (left > 2) await sleep(left - 2);
  while (now() < at) await new Promise((resolve) => setImmediate(resolve));
}
