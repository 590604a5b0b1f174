import type { LockAdapter } from '../adapters';
import { percentile } from '../stats';

const TTL = 10_000;

/** uncontended-sequential: acquire + release one after another, each on its own key. */
export async function uncontendedSequential(adapter: LockAdapter, round: number, ops: number) {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const t0 = performance.now();
    const held = await adapter.acquire(`uncontended-sequential:${round}:${i}`, TTL, 0);
    await held.release();
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - start) / 1000;
  return { opsPerSec: ops / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** uncontended-concurrent: `callers` concurrent callers, each on its own keys. */
export async function uncontendedConcurrent(adapter: LockAdapter, round: number, callers: number, opsEach: number) {
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; i < opsEach; i++) {
        const held = await adapter.acquire(`uncontended-concurrent:${round}:${c}:${i}`, TTL, 0);
        await held.release();
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { opsPerSec: (callers * opsEach) / seconds };
}
