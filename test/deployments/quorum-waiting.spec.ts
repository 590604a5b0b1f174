import { performance } from 'node:perf_hooks';
import type { TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LockService, LockNotAcquiredError } from '../../lib';
import { QUORUM_ACQUIRE_SCRIPT } from '../../lib/stores/quorum/quorum-scripts';
import { FaultProxy, scriptCall } from '../support/fault-proxy';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep } from '../support/wait-for';

/** How late the holder's release reaches nodes 1 and 2 (each way), in ms. */
const LAG = 300;
/**
 * Slack for one wake-up and one quorum attempt, in ms (they take a few). A waiter that missed the
 * majority's word attempts again at its next poll, 25-500 ms after its last: within the slack by
 * chance in about a third of the rounds. Ten rounds tell them apart: such a waiter is late in
 * about seven; one that acts on the majority's word is late only when the machine stalls.
 */
const SLACK = 100;
const ROUNDS = 10;
/** Rounds allowed past LAG + SLACK (a loaded machine's stalls); a waiter that polls has ~7. */
const LATE_ROUNDS_ALLOWED = 2;

/**
 * A waiter of the quorum store, in another app than the holder, on three real redis-servers. The
 * holder's app reaches every node through a proxy that can make its commands late, the waiter's
 * through one that counts its attempts (QUORUM_ACQUIRE scripts sent to node 0).
 */
describe('quorum waiters when the nodes disagree for a while', () => {
  let servers: RedisServer[];
  let holderProxies: FaultProxy[];
  let waiterProxies: FaultProxy[];
  let holder: { module: TestingModule; locks: LockService };
  let waiter: { module: TestingModule; locks: LockService };
  const unhandled: unknown[] = [];
  const onUnhandled = (error: unknown) => void unhandled.push(error);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    servers = await Promise.all([0, 1, 2].map(() => RedisServer.start()));
    holderProxies = await Promise.all(servers.map((server) => FaultProxy.start(server.port)));
    waiterProxies = await Promise.all(servers.map((server) => FaultProxy.start(server.port)));
    holder = await lockModule({ redis: holderProxies.map((proxy) => proxy.url), wait: 0 });
    waiter = await lockModule({ redis: waiterProxies.map((proxy) => proxy.url), wait: 10_000 });
  });

  afterEach(() => {
    for (const proxy of [...holderProxies, ...waiterProxies]) {
      proxy.reset();
      proxy.delayAll(0);
    }
  });

  afterAll(async () => {
    await waiter?.module.close();
    await holder?.module.close();
    for (const proxy of [...(holderProxies ?? []), ...(waiterProxies ?? [])]) await proxy.close();
    await Promise.all((servers ?? []).map((server) => server.stop()));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  it('a lock held on a majority but free on one node: the waiter attempts at its poll pace, not in a loop', async () => {
    const lock = await holder.locks.acquire('split', { ttl: 30_000 });
    await servers[0]!.client().del('lock:{split}'); // as when the lease expired on that node alone
    const attempts = waiterProxies[0]!.watch(scriptCall(QUORUM_ACQUIRE_SCRIPT));
    const outcome = await waiter.locks.acquire('split', { wait: 1_500 }).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(LockNotAcquiredError);
    // Each failed attempt takes node 0 and gives it back. The poll (25-500 ms) allows about a
    // dozen attempts in 1.5 s, never more than 60; each give-back woke the next attempt at once.
    expect(attempts.requests).toBeGreaterThan(1);
    expect(attempts.requests).toBeLessThan(75);
    expect(await servers[0]!.client().exists('lock:{split}')).toBe(0); // every take given back
    expect(await lock.release()).toBe(true);
  });

  it('a release that reaches one node first: the waiter gets the lock once it reached a majority, not a poll later', async () => {
    const late: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const key = `lagging:${round}`;
      const lock = await holder.locks.acquire(key, { ttl: 30_000 });
      const waiting = waiter.locks.acquire(key, { ttl: 30_000 }).then((won) => ({ won, at: performance.now() }));
      await sleep(600); // its poll has grown to hundreds of ms
      const attempts = waiterProxies[0]!.watch(scriptCall(QUORUM_ACQUIRE_SCRIPT));
      holderProxies[1]!.delayAll(LAG);
      holderProxies[2]!.delayAll(LAG);
      const releasedAt = performance.now();
      expect(await lock.release()).toBe(true);
      const { won, at } = await waiting;
      // Node 0 freed the key at once, nodes 1 and 2 LAG ms later: a majority from then on.
      if (at - releasedAt > LAG + SLACK) late.push(Math.round(at - releasedAt));
      expect(attempts.requests).toBeLessThan(10); // the first node's word, the majority's, maybe a poll
      expect(won.fence).toBeGreaterThan(lock.fence);
      attempts.remove();
      holderProxies[1]!.delayAll(0);
      holderProxies[2]!.delayAll(0);
      expect(await won.release()).toBe(true);
    }
    expect(late.length, `late rounds (ms after the release): ${late.join(', ')}`).toBeLessThanOrEqual(
      LATE_ROUNDS_ALLOWED,
    );
  }, 60_000);
});
