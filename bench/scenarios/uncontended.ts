import type { LockAdapter } from '../adapters';
import { percentile } from '../stats';

const TTL = 10_000;

/** Scenario 1: sequential acquire + release on distinct keys. */
export async function sequential(adapter: LockAdapter, round: number, ops: number) {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const t0 = performance.now();
    const held = await adapter.acquire(`s1:${round}:${i}`, TTL, 0);
    await held.release();
    latencies.push(performance.now() - t0);
  }
  const seconds = (performance.now() - start) / 1000;
  return { opsPerSec: ops / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Scenario 2: `callers` concurrent callers, each on its own keys. */
export async function concurrent(adapter: LockAdapter, round: number, callers: number, opsEach: number) {
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      for (let i = 0; i < opsEach; i++) {
        const held = await adapter.acquire(`s2:${round}:${c}:${i}`, TTL, 0);
        await held.release();
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { opsPerSec: (callers * opsEach) / seconds };
}
