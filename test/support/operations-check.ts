import { expect } from 'vitest';
import type { LockService } from '../../lib';
import { waitFor } from './wait-for';

/**
 * inspect, forceRelease and leader election on a deployment, through two apps on it (`a` with
 * holderId 'app-a'): what operations.spec.ts and leadership.spec.ts check on one Redis, once
 * more where keys live on several nodes (Cluster) or behind sentinels.
 */
export async function checkOperations(a: LockService, b: LockService, keys: readonly string[]): Promise<void> {
  const held = await Promise.all(keys.map((key) => a.acquire(key)));
  for (const [i, lock] of held.entries()) {
    expect((await b.inspect(keys[i]!)).holders).toEqual([
      { holder: 'app-a', kind: 'mutex', fence: lock.fence, expiresIn: expect.any(Number) },
    ]);
  }
  const waiting = b.acquire(keys[0]!, { wait: 20_000 });
  expect(await b.forceRelease(keys[0]!)).toBe(true);
  const next = await waiting;
  expect(next.fence).toBeGreaterThan(held[0]!.fence);
  expect(await held[0]!.release()).toBe(false);
  expect(next.held).toBe(true);
  await next.release();
  for (const lock of held.slice(1)) await lock.release();

  const leaderships = [a.campaign('deployment-role', { ttl: 5_000 }), b.campaign('deployment-role', { ttl: 5_000 })];
  const term = await Promise.race(leaderships.map((leadership) => leadership.elected()));
  const leader = leaderships.find((leadership) => leadership.isLeader)!;
  const follower = leaderships.find((leadership) => leadership !== leader)!;
  expect(follower.isLeader).toBe(false);
  await leader.resign();
  await waitFor(() => follower.isLeader, 2_000, 5);
  expect(follower.term).toBeGreaterThan(term);
  await follower.resign();
}
