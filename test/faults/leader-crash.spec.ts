import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Leadership, LockService } from '../../lib';
import { type ChildApp, ChildApps } from '../support/child-apps';
import type { LeaderCommand, LeaderEvent } from '../support/leader-protocol';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { waitFor } from '../support/wait-for';

type Worker = ChildApp<LeaderEvent, LeaderCommand>;

/**
 * A holder and a leader in OS processes of their own, killed with SIGKILL as a crash would end
 * them: inspect names them by the default holder id (host name and their pid), forceRelease takes
 * a lock from them, and a crashed leader is replaced within its ttl.
 */
describe('a holder or leader in another process, killed with SIGKILL', () => {
  let apps: ChildApps<LeaderEvent, LeaderCommand>;
  let server: RedisServer;
  const closers: (() => Promise<void>)[] = [];
  const workers: Worker[] = [];

  const startWorker = async () => {
    const worker = await apps.start('leader-worker', { REDIS_URL: server.url });
    workers.push(worker);
    return worker;
  };
  const replica = async (storeTimeout = 3_000): Promise<LockService> => {
    const { module, locks } = await lockModule({ redis: server.url, shutdownGrace: 0, storeTimeout });
    closers.push(() => module.close());
    return locks;
  };

  /** Exactly one of `leaderships` leads at each of 50 samples, 20 ms apart, with a term above `term`; then all resign. */
  const expectOneSteadyLeader = async (leaderships: Leadership[], term: number) => {
    const leading = () => leaderships.filter((leadership) => leadership.isLeader);
    for (let sample = 0; sample < 50; sample++) {
      expect(leading()).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(leading()[0]!.term).toBeGreaterThan(term);
    await Promise.all(leaderships.map((leadership) => leadership.resign()));
  };

  beforeAll(async () => {
    apps = await ChildApps.compile<LeaderEvent, LeaderCommand>((worker) => worker.send({ cmd: 'exit' }));
    server = await RedisServer.start();
  }, 120_000);
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await apps.endAll();
    for (const worker of workers.splice(0)) expect(worker.unhandled()).toEqual([]);
  });
  afterAll(async () => {
    await apps?.close();
    await server?.stop();
  });

  it('inspect names the other process by host and pid; forceRelease frees its key for a higher fence', async () => {
    const worker = await startWorker();
    worker.send({ cmd: 'hold', key: 'stuck-job', ttl: 30_000 });
    const { fence } = await worker.next('holding');
    worker.pause(); // stuck: it neither renews nor releases
    const locks = await replica();
    const { held, holders } = await locks.inspect('stuck-job');
    expect(held).toBe(true);
    expect(holders).toHaveLength(1);
    expect(holders[0]!.holder).toBe(`${hostname()}:${worker.pid}`);
    expect(holders[0]!.fence).toBe(fence);
    expect(holders[0]!.expiresIn).toBeGreaterThan(20_000);
    worker.signal('SIGKILL');
    await worker.exited;
    expect(await locks.forceRelease('stuck-job')).toBe(true);
    const next = await locks.acquire('stuck-job', { wait: 0 });
    expect(next.fence).toBeGreaterThan(fence);
    await next.release();
  });

  it('a killed leader is replaced within its ttl plus a second, with a higher term; exactly one leader at every sample', async () => {
    const ttl = 2_000;
    const worker = await startWorker();
    worker.send({ cmd: 'campaign', name: 'crashy', ttl });
    const { term } = await worker.next('elected');
    const leaderships: Leadership[] = [];
    for (let i = 0; i < 2; i++) leaderships.push((await replica()).campaign('crashy', { ttl }));
    const leading = () => leaderships.filter((leadership) => leadership.isLeader);
    // While the other process leads, neither replica here does.
    for (let sample = 0; sample < 20; sample++) {
      expect(leading()).toHaveLength(0);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    worker.signal('SIGKILL');
    const killedAt = Date.now();
    await worker.exited;
    await waitFor(() => leading().length > 0, ttl + 5_000, 5);
    expect(Date.now() - killedAt).toBeLessThan(ttl + 1_000);
    await expectOneSteadyLeader(leaderships, term);
  }, 60_000);

  it('a leader cut off from Redis past its lease steps down at once; once Redis is back one replica leads, with a higher term', async () => {
    const ttl = 1_000;
    const leaderships: Leadership[] = [];
    for (let i = 0; i < 3; i++) leaderships.push((await replica(300)).campaign('outage', { ttl }));
    const leading = () => leaderships.filter((leadership) => leadership.isLeader);
    const term = await Promise.race(leaderships.map((leadership) => leadership.elected()));
    const { signal } = leading()[0]!;
    server.pause();
    try {
      await waitFor(() => signal.aborted, ttl + 2_000, 5);
      expect(leading()).toHaveLength(0);
    } finally {
      server.resume();
    }
    await waitFor(() => leading().length === 1, 15_000, 5);
    await expectOneSteadyLeader(leaderships, term);
  }, 60_000);
});
