import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LockService, LockStoreError } from '../../lib';
import { FaultProxy } from '../support/fault-proxy';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/** Generous slack over a configured bound: CI machines stall, the claim is "bounded", not "fast". */
const SLACK = 1_500;
const STORE_TIMEOUT = 250;

describe('a slow network between the app and Redis (a delaying loopback proxy)', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  let module: TestingModule;
  let locks: LockService;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await FaultProxy.start(server.port);
    ({ module, locks } = await lockModule({ redis: proxy.url, storeTimeout: STORE_TIMEOUT, wait: 0 }));
  });

  afterAll(async () => {
    await module?.close();
    await proxy?.close();
    await server?.stop();
  });

  it('slow but within the bound: locks are taken, and renewal keeps them through many slow round trips', async () => {
    proxy.delayAll(40); // 80 ms round trips against a 250 ms bound
    try {
      const lock = await locks.acquire('slow-but-fine', { ttl: 400 });
      await sleep(1_500); // about a dozen renewals, each a slow round trip
      expect(lock.held).toBe(true);
      expect(await lock.release()).toBe(true);
    } finally {
      proxy.delayAll(0);
    }
  });

  it('slower than the bound: acquire fails with LockStoreError within it, then works again once the network recovers', async () => {
    proxy.delayAll(400); // 800 ms round trips against a 250 ms bound
    let started = Date.now();
    try {
      await expect(locks.acquire('too-slow')).rejects.toBeInstanceOf(LockStoreError);
      expect(Date.now() - started).toBeLessThan(STORE_TIMEOUT + SLACK);
      started = Date.now();
      await expect(locks.isLocked('too-slow')).rejects.toBeInstanceOf(LockStoreError);
      expect(Date.now() - started).toBeLessThan(STORE_TIMEOUT + SLACK);
    } finally {
      proxy.delayAll(0);
    }
    // The same app recovers without a restart; the timed-out acquire left no lock behind.
    let lock: Awaited<ReturnType<LockService['tryAcquire']>> = null;
    await waitFor(async () => (lock = await locks.tryAcquire('too-slow').catch(() => null)) !== null, 5_000, 50);
    expect(await lock!.release()).toBe(true);
  });

  it('a held lock whose renewals stay slower than the bound is lost by its lease deadline, never assumed held', async () => {
    const lock = await locks.acquire('renewal-too-slow', { ttl: 600 });
    proxy.delayAll(400);
    try {
      const aborted = new Promise<number>((resolve) =>
        lock.signal.addEventListener('abort', () => resolve(Date.now()), { once: true }),
      );
      const lostAt = await aborted;
      expect(lock.held).toBe(false);
      expect(lostAt).toBeLessThanOrEqual(lock.expiresAt + 50);
    } finally {
      proxy.delayAll(0);
    }
  });
});
