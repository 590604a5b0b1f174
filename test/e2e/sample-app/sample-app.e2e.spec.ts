import { hostname } from 'node:os';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockService } from '../../../lib';
import { AppModule } from '../../../sample-app/app.module';
import { CleanupJob } from '../../../sample-app/cleanup.job';
import { lockStoreConfig } from '../../../sample-app/lock-store.config';
import { expectBusyStream } from '../../support/expect-busy-stream';
import { RedisServer } from '../../support/redis-server';
import { waitFor } from '../../support/wait-for';

describe.each(['memory', 'redis'] as const)('sample app (%s store)', (store) => {
  let server: RedisServer | undefined;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    if (store === 'redis') {
      server = await RedisServer.start();
      process.env.REDIS_URL = server.url;
    } else {
      delete process.env.REDIS_URL;
    }
    const module = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = module.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    delete process.env.REDIS_URL;
    await app?.close();
    await server?.stop();
  });

  it('uses the store REDIS_URL selects', async () => {
    expect(lockStoreConfig()).toEqual({
      ...(server ? { redis: server.url, storeTimeout: 2_000 } : { store: 'memory' }),
      onLockLost: expect.any(Function),
    });
    const lock = await app.get(LockService).acquire('probe');
    if (server) expect(await server.client().get('lock:{probe}')).toBe(`${lock.token} ${lock.fence}`);
    await lock.release();
  });

  it('the search indexer runs on the leader of its role, which inspect names', async () => {
    await waitFor(() => app.get(LockService).leaderships().length > 0, 10_000);
    const answer = (await (await fetch(`${url}/jobs/indexer`)).json()) as { role: { holders: unknown[] } };
    expect(answer).toMatchObject({ leading: true, answer: 'ran', role: { held: true } });
    expect(answer.role.holders).toEqual([
      {
        holder: `${hostname()}:${process.pid}`,
        kind: 'mutex',
        fence: expect.any(Number),
        expiresIn: expect.any(Number),
      },
    ]);
  });

  it('pays an order once at a time: the concurrent request gets 409', async () => {
    const first = fetch(`${url}/orders/42/pay`, { method: 'POST' });
    await waitFor(() => app.get(LockService).isLocked('order:42'));
    const second = await fetch(`${url}/orders/42/pay`, { method: 'POST' });
    expect(second.status).toBe(409);
    // The payment service locks the same order again: from inside the route it re-enters.
    expect(await (await first).json()).toMatchObject({ order: '42', status: 'paid', sameLock: true });
  });

  it('the cleanup demo runs each tick once, the same answer every time, whatever the cron did', async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await (await fetch(`${url}/jobs/cleanup`, { method: 'POST' })).json();
      expect(answer).toEqual({
        tick: expect.stringMatching(/^demo-/),
        replicas: ['ran', 'skipped'],
        late: 'skipped',
        runs: 1,
      });
    }
    // The scheduled tick runs through the same lock: a second scheduler firing it skips.
    const cron = app.get(CleanupJob);
    const now = Date.now();
    await cron.onSchedule(now);
    const tick = `cron-${Math.floor(now / 30_000)}`;
    expect(await app.get(LockService).isLocked(`cleanup:${tick}`)).toBe(true);
    expect(await cron.run(tick)).toBeUndefined();
  });

  it('builds a report through a locked service method, one build at a time', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        fetch(`${url}/reports/daily`, { method: 'POST' }).then((r) => r.json() as Promise<{ builds: number }>),
      ),
    );
    expect(results.map((r) => r.builds).sort()).toEqual([1, 2, 3]);
  });

  it('reserves stock with LockService.withLock without overselling, with increasing fences', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        fetch(`${url}/inventory/pear/reserve`, { method: 'POST' }).then(
          (r) => r.json() as Promise<{ reserved: boolean; left: number; fence: number }>,
        ),
      ),
    );
    expect(results.filter((r) => r.reserved)).toHaveLength(10);
    expect(Math.min(...results.map((r) => r.left))).toBe(0);
    expect(new Set(results.map((r) => r.fence)).size).toBe(12);
  });

  it("holds a feed's lock while it streams", async () => {
    const controller = new AbortController();
    const response = await fetch(`${url}/feed/news`, { signal: controller.signal });
    await response.body!.getReader().read();
    await expectBusyStream(await fetch(`${url}/feed/news`), 'feed:news');
    controller.abort();
    await waitFor(async () => !(await app.get(LockService).isLocked('feed:news')), 3_000);
  });
});
