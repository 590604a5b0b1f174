import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LockService } from '../../lib';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { LOCK_STORE } from '../../lib/nest/redis-lock.tokens';
import { MAX_LOCAL_HAND_OVERS, MAX_UNCONTESTED_HAND_OVERS } from '../../lib/core/tuning';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/**
 * A busy process hands its lock from one of its callers to the next without Redis in between.
 * While waiters of another process listen for the key, it does so at most MAX_LOCAL_HAND_OVERS
 * times in a row, then releases through Redis so they get their turn; while nobody else listens,
 * it keeps handing over (each hand-over's reply says which), up to MAX_UNCONTESTED_HAND_OVERS in a
 * row for waiters it cannot count. Two modules on one real Redis stand
 * for two processes: each has its own store and subscriber connection.
 */
describe('hand-over fairness across processes', () => {
  let server: RedisServer;
  const modules: TestingModule[] = [];
  let a: LockService;
  let b: LockService;
  let n = 0;
  const key = () => `fair-${++n}`;

  beforeAll(async () => {
    server = await RedisServer.start();
    for (let i = 0; i < 2; i++) {
      const started = await lockModule({ redis: server.url, ttl: 10_000 });
      modules.push(started.module);
    }
    a = modules[0]!.get(LockService);
    b = modules[1]!.get(LockService);
  });

  afterAll(async () => {
    for (const module of modules) await module.close();
    await server?.stop();
  });

  /** `callers` callers of A taking `k` `sections` times each, for `holdMs`; the order of holders. */
  function busyProcess(
    k: string,
    callers: number,
    sections: number,
    holdMs: number,
    order: string[],
    stop: () => boolean,
  ) {
    return Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        for (let i = 0; i < sections && !stop(); i++) {
          const lock = await a.acquire(k, { wait: 10_000 });
          order.push(`a${caller}`);
          await sleep(holdMs);
          await lock.release();
        }
      }),
    );
  }

  it('with nobody else listening, a busy process keeps handing over, going through Redis only every MAX_UNCONTESTED_HAND_OVERS', async () => {
    const k = key();
    const store = modules[0]!.get<LockStore>(LOCK_STORE);
    const release = vi.spyOn(store, 'release');
    const handOver = vi.spyOn(store, 'handOver');
    try {
      const order: string[] = [];
      await busyProcess(k, 4, 75, 1, order, () => false);
      expect(order).toHaveLength(300);
      // Many more hand-overs in a row than the cap allows while someone else listens.
      expect(handOver.mock.calls.length).toBeGreaterThan(8 * MAX_LOCAL_HAND_OVERS);
      const releasesWithWaiters = release.mock.calls.length - 1; // the last holder's release has nobody to go to
      // One in MAX_UNCONTESTED_HAND_OVERS + 1 goes through Redis (for waiters nobody can count:
      // pollers), plus a few when the head is busy with its fallback poll. With the cap counting
      // regardless of listeners: about one in MAX_LOCAL_HAND_OVERS + 1 (over 30 here).
      expect(releasesWithWaiters).toBeGreaterThanOrEqual(Math.floor(300 / (MAX_UNCONTESTED_HAND_OVERS + 1)));
      expect(releasesWithWaiters).toBeLessThanOrEqual(Math.floor(300 / (MAX_UNCONTESTED_HAND_OVERS + 1)) + 5);
    } finally {
      release.mockRestore();
      handOver.mockRestore();
    }
  });

  it("with another process's waiter listening, it gets the lock within a few rounds of the cap", async () => {
    const k = key();
    const order: string[] = [];
    let done = false;
    const busy = busyProcess(k, 4, 200, 1, order, () => done);
    await waitFor(() => order.length >= 20, 5_000); // A hands over among its own callers now
    const askedAt = order.length;
    const lock = await b.acquire(k, { wait: 10_000 });
    const sectionsBefore = order.length - askedAt;
    await lock.release();
    done = true;
    await busy;
    // The cap lets B in after at most MAX_LOCAL_HAND_OVERS local hand-overs once its subscription
    // shows in a hand-over's reply; A's head then lets B's attempt go first (B may still lose the
    // race on a loaded machine: a few rounds).
    expect(sectionsBefore).toBeLessThanOrEqual(6 * (MAX_LOCAL_HAND_OVERS + 1));
  });

  it("two callers taking turns (each hand-over empties the queue) let another process's waiter in within a few rounds of the cap", async () => {
    const k = key();
    const order: string[] = [];
    let done = false;
    // Each caller waits for the other: every hand-over leaves the queue empty, and the giver's
    // next acquire queues anew.
    const busy = busyProcess(k, 2, 1_000, 20, order, () => done);
    await waitFor(() => order.length >= 4, 5_000);
    const askedAt = order.length;
    try {
      const lock = await b.acquire(k, { wait: 8_000 });
      const sectionsBefore = order.length - askedAt;
      await lock.release();
      expect(sectionsBefore).toBeLessThanOrEqual(6 * (MAX_LOCAL_HAND_OVERS + 1));
    } finally {
      done = true;
      await busy;
    }
  });
});
