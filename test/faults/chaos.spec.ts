import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosWorker, type ChaosWorkers, compileChaosWorkers } from '../support/chaos-workers';
import { RedisServer } from '../support/redis-server';
import { sleep, waitFor } from '../support/wait-for';

/**
 * Chaos: worker processes (each its own Nest app) against a real redis-server, with faults
 * injected into either: SIGKILL and restart of Redis, SIGSTOP of a holder past its lease. Every
 * test bounds its own time and ends the processes it started, by their PIDs.
 */
describe('chaos: worker processes, real redis-server, injected faults', () => {
  let workers: ChaosWorkers;
  let server: RedisServer | undefined;
  let started: ChaosWorker[] = [];

  const startWorkers = async (count: number) => {
    const batch = await Promise.all(
      Array.from({ length: count }, () => workers.start('chaos-worker', { REDIS_URL: server!.url })),
    );
    started.push(...batch);
    return batch;
  };

  /** Nothing crashed: every worker is alive and caught no unhandled error. */
  const expectNoCrash = () => {
    for (const worker of started) {
      expect(worker.alive).toBe(true);
      expect(worker.unhandled()).toEqual([]);
    }
  };

  beforeAll(async () => {
    workers = await compileChaosWorkers();
  }, 120_000);

  afterEach(async () => {
    await workers.endAll();
    started = [];
    await server?.stop();
    server = undefined;
  });

  afterAll(async () => {
    await workers?.close();
  });

  it('4 processes x 8 callers, 2,560 sections: a non-atomic counter comes out exact, fences strictly increase', async () => {
    server = await RedisServer.start();
    const processes = await startWorkers(4);
    const [callers, sections] = [8, 80];
    for (const worker of processes) {
      worker.send({ cmd: 'count', key: 'chaos-lock', counterKey: 'chaos-counter', callers, sections, maxDelay: 1 });
    }
    const reports = await Promise.all(processes.map((worker) => worker.next('counted', 150_000)));
    const total = processes.length * callers * sections;
    expect(Number(await server.client().get('chaos-counter'))).toBe(total);
    // Every section read a different value (none overlapped), and the fence grew with each one.
    const seen = reports.flatMap((report) => report.seen).sort((a, b) => a.read - b.read);
    expect(seen.map((section) => section.read)).toEqual(Array.from({ length: total }, (_, i) => i));
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.fence).toBeGreaterThan(seen[i - 1]!.fence);
    expectNoCrash();
  }, 180_000);

  it('quorum of 3: 3 processes x 6 callers, one node killed and restarted empty mid-run: the counter comes out exact', async () => {
    const nodes = await Promise.all([0, 1, 2].map(() => RedisServer.start()));
    server = await RedisServer.start(); // the counter, outside the faults
    try {
      const processes = await Promise.all(
        [0, 1, 2].map(() =>
          workers.start('chaos-worker', {
            REDIS_URL: nodes.map((node) => node.url).join(','),
            COUNTER_URL: server!.url,
          }),
        ),
      );
      started.push(...processes);
      const [callers, sections] = [6, 60];
      for (const worker of processes) {
        worker.send({ cmd: 'count', key: 'quorum-lock', counterKey: 'quorum-counter', callers, sections, maxDelay: 1 });
      }
      const counter = server.client();
      const total = processes.length * callers * sections;
      // Mid-run: node 1 dies with every lease on it, and comes back empty.
      await waitFor(async () => Number(await counter.get('quorum-counter')) >= total / 4, 60_000);
      await nodes[1]!.kill();
      await sleep(300);
      await nodes[1]!.restart();
      const reports = await Promise.all(processes.map((worker) => worker.next('counted', 150_000)));
      expect(Number(await counter.get('quorum-counter'))).toBe(total);
      const seen = reports.flatMap((report) => report.seen).sort((a, b) => a.read - b.read);
      expect(seen.map((section) => section.read)).toEqual(Array.from({ length: total }, (_, i) => i));
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.fence).toBeGreaterThan(seen[i - 1]!.fence);
      expectNoCrash();
    } finally {
      await workers.endAll();
      started = [];
      await Promise.all(nodes.map((node) => node.stop()));
    }
  }, 180_000);

  it('Redis killed (-9) and restarted while a lock is held and others wait: the holder loses it, the waiters get it', async () => {
    server = await RedisServer.start();
    const [holder, ...waiters] = await startWorkers(3);
    holder!.send({ cmd: 'hold', key: 'restarted', ttl: 1_500 });
    const { fence: held } = await holder!.next('holding');
    for (const waiter of waiters) waiter.send({ cmd: 'acquire', key: 'restarted', wait: 30_000, hold: 50 });
    await sleep(300);

    await server.kill();
    // Down for longer than the lease: the holder cannot renew, and must not go on assuming it holds.
    const lost = await holder!.next('lost', 10_000);
    expect(['unreachable', 'expired']).toContain(lost.reason);
    await server.restart();

    const acquired = await Promise.all(waiters.map((waiter) => waiter.next('acquired', 30_000)));
    for (const { fence } of acquired) expect(fence).toBeGreaterThan(held);
    expect(waiters.flatMap((waiter) => waiter.events.filter((event) => event.event === 'failed'))).toEqual([]);
    holder!.send({ cmd: 'release' });
    expect((await holder!.next('released')).released).toBe(false);
    expectNoCrash();
  }, 60_000);

  it('a holder frozen (SIGSTOP) past its lease: another takes over with a higher fence; the holder learns it lost', async () => {
    server = await RedisServer.start();
    const [frozen, next] = await startWorkers(2);
    frozen!.send({ cmd: 'hold', key: 'frozen', ttl: 1_000 });
    const { fence, token } = await frozen!.next('holding');

    frozen!.pause();
    try {
      next!.send({ cmd: 'acquire', key: 'frozen', wait: 10_000, hold: 20_000 });
      const taken = await next!.next('acquired', 15_000);
      expect(taken.fence).toBeGreaterThan(fence);
    } finally {
      frozen!.resume();
    }
    // On waking, its local deadline has passed: the lock is lost, whether or not Redis answers.
    expect((await frozen!.next('lost', 5_000)).reason).toBe('expired');
    frozen!.send({ cmd: 'release' });
    expect((await frozen!.next('released')).released).toBe(false);
    // Its late release did not remove the new holder's lock.
    const owner = await server.client().get('lock:{frozen}');
    expect(owner).not.toBeNull();
    expect(owner!.startsWith(`${token} `)).toBe(false);
    expectNoCrash();
  }, 60_000);
});
