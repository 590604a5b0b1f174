import type { TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Lock, LockLostError, LockService } from '../../lib';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { LOCK_STORE } from '../../lib/nest/redis-lock.tokens';
import { HAND_OVER_SCRIPT } from '../../lib/stores/redis/lua-scripts';
import { HAND_OVER_GATHER_MARGIN } from '../../lib/core/tuning';
import { fenceCounterOf } from '../../lib/core/keys/store-keys';
import { ExclusionProbe } from '../support/exclusion-probe';
import { FaultProxy, scriptCall } from '../support/fault-proxy';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/**
 * A release with a waiter of the same process queued hands the lock over at once: the waiter
 * starts before Redis confirms, inside the giver's still-valid lease, with the giver's fence plus
 * one; the hand-over script, sent meanwhile, confirms it or takes it away.
 */
describe('optimistic hand-over inside a process', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let direct: Redis;
  let n = 0;
  const key = () => `relay-${++n}`;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await FaultProxy.start(server.port);
    direct = server.client();
  });

  async function serverMicros(): Promise<number> {
    const [seconds, micros] = await direct.time();
    return Number(seconds) * 1e6 + Number(micros);
  }

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  /**
   * A waiter queued in `locks` (of `module`), listening for releases, and idle: resolved just after
   * one of its polling attempts was answered, so the next is at least 25 ms away (RETRY_MIN_DELAY).
   */
  async function queuedBehind(
    module: TestingModule,
    locks: LockService,
    k: string,
    signal?: AbortSignal,
  ): Promise<{ waiting: Promise<Lock> }> {
    const store = module.get<LockStore>(LOCK_STORE);
    const attempt = store.tryAcquire.bind(store);
    let answered: (() => void) | undefined;
    store.tryAcquire = (...args) => attempt(...args).finally(() => answered?.());
    try {
      const waiting = locks.acquire(k, { wait: 5_000, signal });
      waiting.catch(() => undefined); // a test that aborts it reads the outcome itself
      await waitFor(async () => Number((await direct.pubsub('NUMSUB', `lock:{${k}}:released`))[1]) === 1, 2_000);
      await new Promise<void>((resolve) => (answered = resolve));
      await sleep(2); // the head has taken the answer and gone back to sleep
      return { waiting }; // wrapped: an async function would wait for the acquisition itself
    } finally {
      store.tryAcquire = attempt;
    }
  }

  it('the receiver starts before Redis answers the hand-over, and Redis then confirms it', async () => {
    const { module, locks } = await lockModule({ redis: proxy.url, ttl: 30_000 });
    try {
      const k = key();
      const holder = await locks.acquire(k);
      const { waiting } = await queuedBehind(module, locks, k);
      const late = proxy.delayReplies(scriptCall(HAND_OVER_SCRIPT), Infinity, 1);
      let answered = false;
      const released = holder.release().finally(() => (answered = true));
      await late.requested();
      const receiver = await waiting;
      await late.replied(); // the proxy holds Redis' answer to the hand-over
      expect(answered).toBe(false);
      expect(receiver.fence).toBe(holder.fence + 1);
      expect(receiver.held).toBe(true);
      late.release();
      expect(await released).toBe(true);
      await sleep(50);
      expect(receiver.signal.aborted).toBe(false);
      expect(await direct.get(`lock:{${k}}`)).toBe(`${receiver.token} ${receiver.fence}`);
      expect(await receiver.release()).toBe(true);
    } finally {
      proxy.reset();
      await module.close();
    }
  });

  it.each([
    ['deleted', (k: string) => direct.del(`lock:{${k}}`)],
    ['taken by another owner', (k: string) => direct.set(`lock:{${k}}`, 'someone-else', 'PX', 10_000)],
    ["whose slot's fence counter is gone", (k: string) => direct.del(fenceCounterOf(`lock:{${k}}`))],
  ])(
    'a key %s between acquisition and hand-over: the receiver loses the lock at once (not-held)',
    async (_name, tamper) => {
      const { module, locks } = await lockModule({ redis: server.url, ttl: 30_000 });
      try {
        const k = key();
        const holder = await locks.acquire(k, { autoRenew: false });
        const { waiting } = await queuedBehind(module, locks, k);
        await tamper(k);
        await holder.release();
        const receiver = await waiting;
        await waitFor(() => receiver.signal.aborted, 2_000);
        expect((receiver.signal.reason as LockLostError).reason).toBe('not-held');
        expect(await direct.get(`lock:{${k}}`)).not.toBe(`${receiver.token} ${receiver.fence}`);
        expect(await receiver.release()).toBe(false);
        await direct.del(`lock:{${k}}`);
      } finally {
        await module.close();
      }
    },
  );

  it('with under HAND_OVER_GATHER_MARGIN of cover, the hand-over is written at once, also with other calls in flight and a receiver that first works synchronously', async () => {
    const ttl = 900;
    expect(ttl).toBeLessThan(HAND_OVER_GATHER_MARGIN);
    const { module, locks } = await lockModule({ redis: server.url, ttl });
    try {
      const k = key();
      const holder = await locks.acquire(k);
      const { waiting } = await queuedBehind(module, locks, k);
      // A call in flight: commands sent now gather in the socket until the turn's microtasks ran.
      const inFlight = locks.isLocked(`${k}-unrelated`);
      const released = holder.release();
      // The receiver's code runs in those microtasks: 300 ms of synchronous work before any await.
      const worked = waiting.then((receiver) => {
        const end = performance.now() + 300;
        while (performance.now() < end);
        return receiver;
      });
      const receiver = await worked;
      await Promise.all([released, inFlight]);
      // Redis ran the hand-over before the work ended: the receiver's lease was counted from
      // then, so more than the work's time has gone from it (written after the work: about none).
      const left = await direct.pttl(`lock:{${k}}`);
      expect(await direct.get(`lock:{${k}}`)).toBe(`${receiver.token} ${receiver.fence}`);
      expect(left).toBeLessThan(ttl - 250);
      expect(await receiver.release()).toBe(true);
    } finally {
      await module.close();
    }
  });

  it("with too little of the giver's lease left, the hand-over waits for Redis instead", async () => {
    const { module, locks } = await lockModule({ redis: server.url });
    const store = module.get<LockStore>(LOCK_STORE);
    const handOver = vi.spyOn(store, 'handOver');
    try {
      const k = key();
      // A 60 ms lease (less the drift allowance) has under the 50 ms margin left once the waiter is queued.
      const holder = await locks.acquire(k, { ttl: 60, autoRenew: false });
      const waiting = locks.acquire(k, { wait: 2_000 });
      await sleep(20);
      await holder.release();
      const receiver = await waiting;
      const optimistic = handOver.mock.calls.filter((call) => call[0].optimistic !== undefined).length;
      expect(optimistic).toBe(0);
      await receiver.release();
    } finally {
      handOver.mockRestore();
      await module.close();
    }
  });

  it('two processes, 8 callers each, 25 short sections per caller: exact count, strictly increasing fences, most hand-overs optimistic', async () => {
    const one = await lockModule({ redis: server.url, ttl: 5_000 });
    const two = await lockModule({ redis: server.url, ttl: 5_000 });
    const modules: TestingModule[] = [one.module, two.module];
    const spies = modules.map((module) => vi.spyOn(module.get<LockStore>(LOCK_STORE), 'handOver'));
    try {
      const probe = new ExclusionProbe();
      const fences: number[] = [];
      const caller = async (locks: LockService) => {
        for (let i = 0; i < 25; i++) {
          await locks.withLock('shared-counter', async (lock) => {
            fences.push(lock.fence);
            await probe.increment(1, 1);
          });
        }
      };
      await Promise.all([one.locks, two.locks].flatMap((locks) => Array.from({ length: 8 }, () => caller(locks))));
      expect(probe.overlaps).toBe(0);
      expect(probe.count).toBe(400);
      for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
      const handOvers = spies.flatMap((spy) => spy.mock.calls);
      const optimistic = handOvers.filter((call) => call[0].optimistic !== undefined).length;
      expect(handOvers.length).toBeGreaterThan(100);
      expect(optimistic / handOvers.length).toBeGreaterThan(0.9);
    } finally {
      for (const spy of spies) spy.mockRestore();
      await one.module.close();
      await two.module.close();
    }
  });

  // Edges found by review, each a test that failed before its fix: a refused receiver's fence is
  // never issued again, and a waiter that leaves without the lock handed to it (it gave up in the
  // same turn, its subscription failed) does not strand the key.

  it('a refused receiver ran with fence F+1: the next holder gets a higher one', async () => {
    const a = await lockModule({ redis: server.url, ttl: 30_000 });
    const b = await lockModule({ redis: server.url, ttl: 30_000 });
    try {
      const k = key();
      const holder = await a.locks.acquire(k, { autoRenew: false });
      const { waiting } = await queuedBehind(a.module, a.locks, k);
      await direct.del(`lock:{${k}}`); // the giver's lease is gone from Redis (expiry, eviction, failover, admin)
      await holder.release();
      const receiver = await waiting;
      const usedFence = receiver.fence; // the receiver did its fenced writes with this
      await waitFor(() => receiver.signal.aborted, 5_000);
      const next = await b.locks.acquire(k);
      await next.release();
      expect(next.fence).toBeGreaterThan(usedFence);
    } finally {
      await a.module.close();
      await b.module.close();
    }
  });

  it.each([
    ['behind the clock', async () => undefined],
    // Grants on the slot outran the clock: fences come from the counter alone.
    [
      'ahead of the clock',
      async (k: string) => direct.set(fenceCounterOf(`lock:{${k}}`), (await serverMicros()) + 3_600_000_000),
    ],
  ])(
    "the giver's key deleted and taken by another process before the hand-over, the counter %s: the receiver's fence stays below the new holder's",
    async (_name, setCounter) => {
      const a = await lockModule({ redis: server.url, ttl: 30_000 });
      const b = await lockModule({ redis: server.url, ttl: 30_000 });
      try {
        const k = key();
        await setCounter(k);
        const holder = await a.locks.acquire(k, { autoRenew: false });
        const { waiting } = await queuedBehind(a.module, a.locks, k);
        await direct.del(`lock:{${k}}`); // behind the giver's back (eviction, an admin's DEL)
        const later = await b.locks.acquire(k, { wait: 0 });
        await holder.release();
        const receiver = await waiting; // optimistic: it runs with the giver's fence plus one
        expect(receiver.fence).toBe(holder.fence + 1);
        await waitFor(() => receiver.signal.aborted, 5_000);
        expect(receiver.fence).toBeLessThan(later.fence);
        expect(await later.release()).toBe(true);
        const next = await b.locks.acquire(k);
        await next.release();
        expect(next.fence).toBeGreaterThan(later.fence);
      } finally {
        await a.module.close();
        await b.module.close();
      }
    },
  );

  it('a run of 40 hand-overs in one process: every 16th waits for Redis (a new block of fences), none is refused', async () => {
    const { module, locks } = await lockModule({ redis: server.url, ttl: 30_000 });
    try {
      const k = key();
      const first = await locks.acquire(k);
      const fences = [first.fence];
      const released: boolean[] = [];
      const waiters = Array.from({ length: 40 }, () => locks.acquire(k, { wait: 20_000 }));
      await waitFor(async () => Number((await direct.pubsub('NUMSUB', `lock:{${k}}:released`))[1]) === 1, 2_000);
      await sleep(50); // every waiter queued
      const held = waiters.map((waiting) =>
        waiting.then(async (lock) => {
          fences.push(lock.fence);
          await sleep(1);
          released.push(await lock.release());
        }),
      );
      await first.release();
      await Promise.all(held);
      expect(released).toEqual(Array.from({ length: 40 }, () => true));
      for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
      // Optimistic hand-overs spend the block (+1 each); the store issues a new one at least twice.
      const fromStore = fences.slice(1).filter((fence, i) => fence !== fences[i]! + 1).length;
      expect(fromStore).toBeGreaterThanOrEqual(2);
    } finally {
      await module.close();
    }
  });

  it('a refused receiver after its counter was lost: the next fence is above every one issued, not counted from F+1', async () => {
    const a = await lockModule({ redis: server.url, ttl: 30_000 });
    try {
      const k = key();
      const holder = await a.locks.acquire(k, { autoRenew: false });
      const { waiting } = await queuedBehind(a.module, a.locks, k);
      // Two faults close together: the giver's lease lost, a holder elsewhere issued a fence from
      // the clock (as any grant on a missing counter does), then that counter lost as well.
      await direct.del(`lock:{${k}}`, fenceCounterOf(`lock:{${k}}`));
      const [seconds, micros] = await direct.time();
      const issued = Number(seconds) * 1e6 + Number(micros);
      expect(issued).toBeGreaterThan(holder.fence + 2);
      await holder.release();
      const receiver = await waiting;
      await waitFor(() => receiver.signal.aborted, 5_000);
      const next = await a.locks.acquire(k);
      await next.release();
      expect(next.fence).toBeGreaterThan(issued);
    } finally {
      await a.module.close();
    }
  });

  it('a waiter whose signal aborts in the turn the holder releases leaves the key free, not held by its token', async () => {
    const a = await lockModule({ redis: server.url, ttl: 30_000 });
    try {
      const k = key();
      const holder = await a.locks.acquire(k, { autoRenew: false });
      const controller = new AbortController();
      const { waiting } = await queuedBehind(a.module, a.locks, k, controller.signal);
      controller.abort(); // e.g. the client disconnected
      const released = holder.release(); // same turn (e.g. an abort listener, or a continuation queued first)
      const outcome = await waiting.then(
        (lock) => lock,
        (error: unknown) => error,
      );
      expect(outcome).toBe(controller.signal.reason);
      expect(await released).toBe(true);
      await waitFor(async () => (await direct.exists(`lock:{${k}}`)) === 0, 1_000).catch(() => undefined);
      const inRedis = await direct.get(`lock:{${k}}`);
      await direct.del(`lock:{${k}}`);
      expect(inRedis).toBeNull();
    } finally {
      await a.module.close();
    }
  });

  it('a head handed the lock while its subscription is pending takes it; one that then fails changes nothing', async () => {
    const a = await lockModule({ redis: server.url, ttl: 30_000 });
    const store = a.module.get<LockStore>(LOCK_STORE);
    const onRelease = store.onRelease.bind(store);
    try {
      const k = key();
      const holder = await a.locks.acquire(k, { autoRenew: false });
      // The subscription is slow, then fails (a subscriber connection that times out).
      store.onRelease = () =>
        new Promise((_, reject) => setTimeout(() => reject(new Error('subscribe timed out')), 300));
      const waiting = a.locks.acquire(k, { wait: 10_000 });
      waiting.catch(() => undefined);
      await sleep(100); // first attempt answered busy; queued, its subscription pending
      expect(await holder.release()).toBe(true);
      const lock = await waiting;
      await sleep(400); // the subscription has failed by now
      expect(lock.signal.aborted).toBe(false);
      expect(await lock.release()).toBe(true);
      await waitFor(async () => (await direct.exists(`lock:{${k}}`)) === 0, 1_000).catch(() => undefined);
      const inRedis = await direct.get(`lock:{${k}}`);
      await direct.del(`lock:{${k}}`);
      expect(inRedis).toBeNull();
    } finally {
      store.onRelease = onRelease;
      await a.module.close();
    }
  });
});
