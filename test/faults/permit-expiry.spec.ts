import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockService, RedisLockModule } from '../../lib';
import { type ChaosWorker, type ChaosWorkers, compileChaosWorkers } from '../support/chaos-workers';
import { RedisServer } from '../support/redis-server';
import { sleep } from '../support/wait-for';

/**
 * A counting lock's permit held by another OS process that dies (SIGKILL: no release, no
 * shutdown hook) is not leaked: it ends after its ttl, while a living holder's permit is renewed.
 */
describe('permits of a crashed process expire', () => {
  let workers: ChaosWorkers;
  let server: RedisServer;
  let module: TestingModule;
  let locks: LockService;

  beforeAll(async () => {
    workers = await compileChaosWorkers();
    server = await RedisServer.start();
    module = await Test.createTestingModule({ imports: [RedisLockModule.forRoot({ redis: server.url })] }).compile();
    await module.init();
    locks = module.get(LockService);
  }, 120_000);

  afterAll(async () => {
    await workers?.close();
    await module?.close();
    await server?.stop();
  });

  it("a holder killed with SIGKILL: its permit ends after its ttl; the living holder's stays", async () => {
    const ttl = 1_000;
    const holders: ChaosWorker[] = await Promise.all(
      [0, 1].map(() => workers.start('chaos-worker', { REDIS_URL: server.url })),
    );
    for (const holder of holders) holder.send({ cmd: 'hold', key: 'export:t1', ttl, limit: 2 });
    const fences = await Promise.all(holders.map(async (holder) => (await holder.next('holding')).fence));
    // Held past several leases: both permits are renewed.
    await sleep(2 * ttl);
    expect(await locks.tryAcquire('export:t1', { limit: 2 })).toBeNull();
    const [killed, living] = holders;
    killed!.signal('SIGKILL');
    await killed!.exited;
    const killedAt = performance.now();
    const lock = await locks.acquire('export:t1', { limit: 2, wait: 10_000 });
    const waited = performance.now() - killedAt;
    expect(lock.fence).toBeGreaterThan(Math.max(...fences));
    // Within about one ttl (plus a poll), generous for a loaded machine.
    expect(waited).toBeLessThan(ttl + 3_000);
    // The living holder's permit is still there: the limit is reached again.
    expect(await locks.tryAcquire('export:t1', { limit: 2 })).toBeNull();
    expect(living!.alive).toBe(true);
    expect(living!.unhandled()).toEqual([]);
    await lock.release();
  });
});
