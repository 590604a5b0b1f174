import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LockLostError, LockNotAcquiredError, type LockService } from '../../lib';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { LOCK_STORE } from '../../lib/nest/redis-lock.tokens';
import { recordCommands } from '../support/command-recorder';
import { ExclusionProbe } from '../support/exclusion-probe';
import { RedisServer } from '../support/redis-server';
import { STORES, type StoreRun, lockModule } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

describe.each(STORES)('waiting on the $name store', (store) => {
  let run: StoreRun;
  let module: TestingModule;
  let locks: LockService;
  let n = 0;
  const key = () => `${store.name}:w${++n}`;

  beforeAll(async () => {
    run = await store.start();
    ({ module, locks } = await lockModule({ ...run.options, wait: 10_000 }));
  });

  afterAll(async () => {
    await module?.close();
    await run?.stop();
  });

  it('serves the waiters of one process in arrival order', async () => {
    const k = key();
    const holder = await locks.acquire(k);
    const order: number[] = [];
    const waiters = Array.from({ length: 6 }, async (_, i) => {
      await sleep(i * 20); // arrive one after another
      const lock = await locks.acquire(k);
      order.push(i);
      await sleep(5);
      await lock.release();
    });
    await sleep(200);
    await holder.release();
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a caller that just released does not jump ahead of callers already waiting', async () => {
    const k = key();
    const order: string[] = [];
    const first = await locks.acquire(k);
    const waiting = locks.acquire(k).then(async (lock) => {
      order.push('waiter');
      await lock.release();
    });
    await sleep(50);
    await first.release();
    const again = await locks.acquire(k); // the releaser comes straight back
    order.push('releaser');
    await again.release();
    await waiting;
    expect(order).toEqual(['waiter', 'releaser']);
  });

  it('hands the lock straight to the next waiter, with a higher fence', async () => {
    const k = key();
    const holder = await locks.acquire(k);
    const next = locks.acquire(k);
    await sleep(50);
    expect(await holder.release()).toBe(true);
    const lock = await next;
    expect(lock.fence).toBeGreaterThan(holder.fence);
    expect(await locks.isLocked(k)).toBe(true);
    expect(await lock.release()).toBe(true);
    expect(await locks.isLocked(k)).toBe(false);
  });

  it('a waiter that gives up leaves the queue; the one behind it is served', async () => {
    const k = key();
    const holder = await locks.acquire(k);
    const controller = new AbortController();
    const quitter = locks.acquire(k, { signal: controller.signal });
    await sleep(20);
    const patient = locks.acquire(k);
    const impatient = locks.acquire(k, { wait: 100 });
    await sleep(50);
    controller.abort(new Error('gone'));
    await expect(quitter).rejects.toThrow('gone');
    await expect(impatient).rejects.toBeInstanceOf(LockNotAcquiredError);
    await holder.release();
    const lock = await patient;
    await lock.release();
    expect(await locks.isLocked(k)).toBe(false);
  });

  it('an expired lease (no release, no notification) is still taken by a waiter', async () => {
    const k = key();
    await locks.acquire(k, { ttl: 300, autoRenew: false }); // abandoned: never released
    const lock = await locks.acquire(k, { wait: 5_000 });
    expect(lock.held).toBe(true);
    await lock.release();
  });
});

describe('release notifications through Redis', () => {
  let server: RedisServer;
  const modules: TestingModule[] = [];
  let a: LockService;
  let b: LockService;

  beforeAll(async () => {
    server = await RedisServer.start();
    const services: LockService[] = [];
    for (let i = 0; i < 2; i++) {
      const started = await lockModule({ redis: server.url, wait: 10_000 });
      modules.push(started.module);
      services.push(started.locks);
    }
    [a, b] = services as [LockService, LockService];
  });

  afterAll(async () => {
    for (const module of modules) await module.close();
    await server?.stop();
  });

  it("a release publishes on the key's channel", async () => {
    const listener = server.client();
    const messages: string[] = [];
    listener.on('message', (channel: string) => messages.push(channel));
    await listener.subscribe('lock:{published}:released');
    const lock = await a.acquire('published');
    await lock.release();
    await waitFor(() => messages.length === 1, 2_000);
    expect(messages).toEqual(['lock:{published}:released']);
    listener.disconnect();
  });

  it('many waiters share one subscriber connection, and the channel is dropped when they leave', async () => {
    const admin = server.client();
    const holder = await a.acquire('crowd');
    const waiters = Array.from({ length: 20 }, () => b.acquire('crowd').then((lock) => lock.release()));
    await waitFor(async () => {
      const [, count] = (await admin.pubsub('NUMSUB', 'lock:{crowd}:released')) as [string, number];
      return Number(count) === 1;
    }, 2_000);
    const subscribers = ((await admin.client('LIST')) as string).split('\n').filter((line) => / sub=[1-9]/.test(line));
    expect(subscribers).toHaveLength(1);
    await holder.release();
    await Promise.all(waiters);
    await waitFor(async () => {
      const [, count] = (await admin.pubsub('NUMSUB', 'lock:{crowd}:released')) as [string, number];
      return Number(count) === 0;
    }, 2_000);
  });

  it('hands over to a waiter of the same process in one round trip: no separate release and acquire', async () => {
    // Each store call is one script, one round trip: the calls A's store saw are what went to
    // Redis (what a hand-over does there is pinned by test/store-contract.spec.ts).
    const store = modules[0]!.get<LockStore>(LOCK_STORE);
    const calls = {
      handOver: vi.spyOn(store, 'handOver'),
      release: vi.spyOn(store, 'release'),
      tryAcquire: vi.spyOn(store, 'tryAcquire'),
    };
    try {
      // A release that meets the head waiter in the middle of its fallback poll goes through Redis
      // instead (the poll's attempt is already on the wire): such a round is repeated, a few times at most.
      for (let round = 1; ; round++) {
        const key = `relay-${round}`;
        const holder = await a.acquire(key);
        const next = a.acquire(key);
        await waitFor(async () => {
          const [, count] = (await server.client().pubsub('NUMSUB', `lock:{${key}}:released`)) as [string, number];
          return Number(count) === 1; // the waiter is queued and listening
        }, 2_000);
        for (const spy of Object.values(calls)) spy.mockClear();
        expect(await holder.release()).toBe(true);
        const lock = await next;
        const seen = { handOver: calls.handOver.mock.calls.length, release: calls.release.mock.calls.length };
        const polled = calls.tryAcquire.mock.calls.length > 0;
        await lock.release();
        if (polled && round < 5) continue; // the head was polling (tryAcquire) meanwhile
        expect(seen).toEqual({ handOver: 1, release: 0 });
        expect(lock.fence).toBe(holder.fence + 1);
        return;
      }
    } finally {
      for (const spy of Object.values(calls)) spy.mockRestore();
    }
  });

  it('a hand-over that finds another owner on one key releases the keys the holder owns; the receiver, already started, loses the lock at once', async () => {
    const admin = server.client();
    const holder = await a.acquire(['part-a', 'part-b'], { autoRenew: false });
    // The waiter's attempts: the first, and the one once it listens. The holder releases once
    // both have been answered, so the head is idle and the release hands over (an attempt in
    // flight would send it through Redis instead).
    const attempts = vi.spyOn(modules[0]!.get<LockStore>(LOCK_STORE), 'tryAcquire');
    const answered = () => attempts.mock.settledResults.filter((result) => result.type !== 'incomplete').length;
    const waiting = a.acquire(['part-a', 'part-b'], { wait: 5_000 });
    try {
      await waitFor(() => answered() >= 2, 2_000);
    } finally {
      attempts.mockRestore();
    }
    await sleep(10); // the last answer's continuation: the head goes back to sleep
    await admin.set('lock:{part-b}', 'someone-else', 'PX', 10_000); // part-b changed hands behind our back
    expect(await holder.release()).toBe(false);
    expect(await admin.exists('lock:{part-a}')).toBe(0); // not left to expire on its own
    // Handed over at once (the holder's lease was valid here), then refused by Redis: lost.
    const receiver = await waiting;
    expect(receiver.fence).toBe(holder.fence + 1);
    await waitFor(() => receiver.signal.aborted, 2_000);
    expect((receiver.signal.reason as LockLostError).reason).toBe('not-held');
    expect(await receiver.release()).toBe(false);
    expect(await admin.get('lock:{part-b}')).toBe('someone-else');
    await admin.del('lock:{part-b}');
  });

  it('a waiter in another process wins the lock after a release, and few commands are spent per section', async () => {
    const recorder = await recordCommands(server);
    const probe = new ExclusionProbe();
    const worker = async (service: LockService) => {
      for (let i = 0; i < 10; i++) {
        const lock = await service.acquire('shared');
        await probe.section(() => sleep(3));
        await lock.release();
      }
    };
    await Promise.all([worker(a), worker(a), worker(b), worker(b)]);
    const commands = await recorder.stop();
    expect(probe.overlaps).toBe(0);
    const scripted = commands.filter((c) => c === 'evalsha' || c === 'eval').length;
    expect(scripted / 40).toBeLessThanOrEqual(10);
  });
});
