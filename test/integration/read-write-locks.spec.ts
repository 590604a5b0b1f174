import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockArgumentError, LockNotAcquiredError, type LockService } from '../../lib';
import { STORES, startLockPair } from '../support/stores';
import { sleep } from '../support/wait-for';

/** Read-write locks (`mode`) through LockService, two apps on one store as two replicas. */
describe.each(STORES.filter((store) => store.name !== 'quorum'))('read-write locks on the $name store', (store) => {
  let locks: LockService;
  let other: LockService;
  let close: () => Promise<void>;
  let n = 0;
  const key = () => `doc:${++n}`;

  beforeAll(async () => {
    ({ locks, other, close } = await startLockPair(store, { wait: 20_000, ttl: 5_000 }));
  });
  afterAll(async () => close?.());

  it('5 readers hold at once; a writer waits for all of them, then excludes them', async () => {
    const k = key();
    const readers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => (i % 2 ? other : locks).acquire(k, { mode: 'read' })),
    );
    let wrote = false;
    const writer = locks.acquire(k, { mode: 'write' }).then((lock) => ((wrote = true), lock));
    for (const reader of readers) {
      await sleep(50);
      expect(wrote).toBe(false);
      await reader.release();
    }
    const lock = await writer;
    expect(lock.fence).toBeGreaterThan(Math.max(...readers.map((reader) => reader.fence)));
    await expect(other.acquire(k, { mode: 'read', wait: 200 })).rejects.toBeInstanceOf(LockNotAcquiredError);
    await lock.release();
    const reader = await other.acquire(k, { mode: 'read', wait: 1_000 });
    await reader.release();
  });

  it('a writer is let in within about one hold time while readers from two apps keep overlapping', async () => {
    const k = key();
    const hold = 200;
    let stop = false;
    let writing = false;
    let overlaps = 0;
    // Each reader loop starts its next read before the last one ends in the other app.
    const reader = async (service: LockService, offset: number) => {
      await sleep(offset);
      while (!stop) {
        await service.withLock(
          k,
          async () => {
            expect(writing).toBe(false);
            overlaps++;
            await sleep(hold);
          },
          { mode: 'read' },
        );
      }
    };
    const loops = [reader(locks, 0), reader(other, hold / 2), reader(locks, hold / 4), reader(other, (3 * hold) / 4)];
    await sleep(3 * hold);
    const asked = performance.now();
    const waited = await other.withLock(k, async () => {
      writing = true;
      const waited = performance.now() - asked;
      await sleep(50);
      writing = false;
      return waited;
    });
    stop = true;
    await Promise.all(loops);
    expect(overlaps).toBeGreaterThan(4);
    // About one reader's hold (readers that came after the writer wait behind it); generous bound.
    expect(waited).toBeLessThan(6 * hold);
  });

  it("a read inside the chain's own write re-enters; a write inside its own read is refused", async () => {
    const k = key();
    await locks.withLock(k, async (outer) => {
      const inner = await locks.acquire(k, { mode: 'read' });
      expect(inner.reentered).toBe(true);
      expect(inner.fence).toBe(outer.fence);
      await inner.release();
    });
    await locks.withLock(
      k,
      async () => {
        await expect(locks.acquire(k, { mode: 'write' })).rejects.toBeInstanceOf(LockArgumentError);
        const again = await locks.acquire(k, { mode: 'read' });
        expect(again.reentered).toBe(true);
        await again.release();
      },
      { mode: 'read' },
    );
  });
});
