import { type INestApplication, Logger } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LockLostError, type LockService, LockStoreError } from '../../lib';
import { ADAPTERS, startHttpApp } from '../support/http-app';
import { FakeAuthGuard, OrdersController, resetState, state } from '../support/http-fixture';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep, timersAndSockets, waitFor } from '../support/wait-for';

/** Generous slack over a configured bound: CI machines stall, the claim is "bounded", not "fast". */
const SLACK = 1_500;

describe('faults on a real redis-server', () => {
  let server: RedisServer;
  let module: TestingModule;
  let locks: LockService;

  beforeAll(async () => {
    server = await RedisServer.start();
    ({ module, locks } = await lockModule({ redis: server.url, storeTimeout: 300, wait: 0 }));
  });

  afterAll(async () => {
    server?.resume();
    await module?.close();
    await server?.stop();
  });

  it('Redis paused: acquire fails with LockStoreError within its bound, then recovers on resume', async () => {
    server.pause();
    try {
      const started = Date.now();
      const error = await locks.acquire('paused', { wait: 5_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockStoreError);
      expect(Date.now() - started).toBeLessThan(300 + SLACK);
    } finally {
      server.resume();
    }
    // The timed-out acquire reached Redis after the resume; its queued cleanup removed it.
    await waitFor(async () => !(await locks.isLocked('paused')), 3_000);
    const lock = await locks.acquire('paused');
    expect(await lock.release()).toBe(true);
  });

  it('a lock deleted under its holder is reported lost through signal (not-held)', async () => {
    const lock = await locks.acquire('stolen', { ttl: 300 });
    await server.client().del('lock:{stolen}');
    await waitFor(() => lock.signal.aborted, 2_000);
    expect((lock.signal.reason as LockLostError).reason).toBe('not-held');
    expect(await lock.release()).toBe(false);
  });

  it('Redis killed while held: the holder learns it lost the lock; after a restart locks work again', async () => {
    const lock = await locks.acquire('crash', { ttl: 600 });
    await server.kill();
    try {
      await waitFor(() => lock.signal.aborted, 600 + SLACK);
      expect(lock.signal.reason).toBeInstanceOf(LockLostError);
      expect((lock.signal.reason as LockLostError).reason).toBe('unreachable');
      // Release of a lost lock never throws, even with Redis down.
      expect(await lock.release()).toBe(false);
      await expect(locks.acquire('crash')).rejects.toBeInstanceOf(LockStoreError);
    } finally {
      await server.restart();
    }
    await waitFor(
      async () => {
        const next = await locks.tryAcquire('crash').catch(() => null);
        if (next) await next.release();
        return next !== null;
      },
      10_000,
      100,
    );
  });

  it('an outage from start to end: waiters get the lock after it, no unhandled rejection, no timer or socket left', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (error: unknown) => void unhandled.push(error);
    process.on('unhandledRejection', onUnhandled);
    const before = timersAndSockets();
    const app = await lockModule({ redis: server.url, storeTimeout: 300, ttl: 600 });
    try {
      const held = await app.locks.acquire('outage');
      const waiting = app.locks.acquire('outage', { wait: 20_000 });
      await sleep(100);
      await server.kill();
      await waitFor(() => held.signal.aborted, 600 + SLACK);
      await server.restart();
      const next = await waiting;
      expect(next.fence).toBeGreaterThan(held.fence);
      expect(await next.release()).toBe(true);
      expect(await held.release()).toBe(false);
    } finally {
      await app.module.close();
      process.off('unhandledRejection', onUnhandled);
    }
    await waitFor(() => timersAndSockets() <= before, 3_000);
    expect(unhandled).toEqual([]);
  });

  it('Redis paused while held, with a store bound longer than the lease: the signal aborts at the lease deadline', async () => {
    // Renewals neither succeed nor fail for 5 s: only the local deadline can tell the holder.
    const patient = await lockModule({ redis: server.url, storeTimeout: 5_000 });
    try {
      const lock = await patient.locks.acquire('paused-holder', { ttl: 600 });
      server.pause();
      try {
        const aborted = new Promise<number>((resolve) =>
          lock.signal.addEventListener('abort', () => resolve(Date.now()), { once: true }),
        );
        const lostAt = await aborted;
        expect(lostAt).toBeLessThanOrEqual(lock.expiresAt + 50);
        expect((lock.signal.reason as LockLostError).reason).toBe('unreachable');
      } finally {
        server.resume();
      }
    } finally {
      await patient.module.close();
    }
  });

  it("withLock keeps the work's result when the release cannot reach Redis, and warns of the failure", async () => {
    const logged = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const result = await locks.withLock('release-fails', async () => {
        server.pause();
        return 'work done';
      });
      expect(result).toBe('work done');
      expect(logged).toHaveBeenCalledWith(expect.stringContaining('Releasing lock "release-fails" failed'));
    } finally {
      server.resume();
      logged.mockRestore();
    }
  });

  it('a user client without an offline queue fails at once with LockStoreError, not a hang', async () => {
    const client = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    client.on('error', () => undefined);
    const other = await lockModule({ redis: client, storeTimeout: 5_000 });
    const started = Date.now();
    await expect(other.locks.acquire('offline')).rejects.toBeInstanceOf(LockStoreError);
    expect(Date.now() - started).toBeLessThan(SLACK);
    await other.module.close();
    client.disconnect();
  });
});

describe.each(ADAPTERS)('HTTP over %s while Redis is unreachable', (adapter) => {
  let server: RedisServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    server = await RedisServer.start();
    ({ app, url } = await startHttpApp(
      adapter,
      { redis: server.url, storeTimeout: 300 },
      {
        controllers: [OrdersController],
        providers: [FakeAuthGuard],
      },
    ));
  });

  afterAll(async () => {
    server?.resume();
    await app?.close();
    await server?.stop();
  });

  it('answers 503 within the bound, then serves again once Redis is back', async () => {
    resetState();
    server.pause();
    try {
      const started = Date.now();
      const response = await fetch(`${url}/orders/slow/r1`, { method: 'POST' });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      expect(Date.now() - started).toBeLessThan(300 + SLACK);
      expect(state.ran).not.toContain('slow:r1');
    } finally {
      server.resume();
    }
    await waitFor(async () => (await fetch(`${url}/orders/slow/r2`, { method: 'POST' })).status === 201, 5_000, 100);
  });
});
