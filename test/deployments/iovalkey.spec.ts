import Valkey, { Cluster as ValkeyCluster } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockNotAcquiredError, type LockService, LockStoreError } from '../../lib';
import { RedisCluster } from '../support/redis-cluster';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep } from '../support/wait-for';

/**
 * iovalkey clients (ioredis' fork for Valkey and Redis-compatible servers) passed to the module as
 * they are, no cast: the options accept them by shape (this file type-checks only then). The
 * store contract runs on one too (store-contract.spec.ts).
 */

/** Non-atomic read-modify-write under the lock by `workers` callers: exact only with exclusion. */
async function countUnderLock(locks: LockService, key: string, workers: number): Promise<number> {
  let count = 0;
  await Promise.all(
    Array.from({ length: workers }, () =>
      locks.withLock(
        key,
        async () => {
          const seen = count;
          await sleep(2);
          count = seen + 1;
        },
        { wait: 20_000 },
      ),
    ),
  );
  return count;
}

describe('an iovalkey Redis client', () => {
  let server: RedisServer;
  let client: Valkey;
  let app: Awaited<ReturnType<typeof lockModule>>;

  beforeAll(async () => {
    server = await RedisServer.start();
    client = new Valkey(server.url);
    client.on('error', () => undefined);
    app = await lockModule({ redis: client, storeTimeout: 3_000, wait: 0 });
  });

  afterAll(async () => {
    await app?.module.close();
    client?.disconnect();
    await server?.stop();
  });

  it('gives mutual exclusion, busy answers and increasing fences', async () => {
    expect(await countUnderLock(app.locks, 'valkey:count', 20)).toBe(20);
    const first = await app.locks.acquire('valkey:busy');
    await expect(app.locks.acquire('valkey:busy')).rejects.toBeInstanceOf(LockNotAcquiredError);
    expect(await first.release()).toBe(true);
    const second = await app.locks.acquire('valkey:busy');
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(await second.release()).toBe(true);
  });

  it('is left open by the module, and a refused connection is answered at once', async () => {
    const other = await lockModule({ redis: client, storeTimeout: 3_000, wait: 0 });
    await other.module.close();
    expect(client.status).toBe('ready');
    await server.kill();
    try {
      await sleep(300); // the client's reconnect attempts are refused
      const started = performance.now();
      const error = await app.locks.acquire('valkey:down').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockStoreError);
      expect((error as Error).message).toContain('ECONNREFUSED');
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      await server.restart();
    }
  });
});

describe('an iovalkey Cluster client', () => {
  let cluster: RedisCluster;
  let client: ValkeyCluster;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    client = new ValkeyCluster(cluster.servers.map((server) => ({ host: '127.0.0.1', port: server.port })));
    client.on('error', () => undefined);
  });

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('locks keys across the slots, waiters woken by release notifications', async () => {
    const app = await lockModule({ redis: client, wait: 20_000 });
    try {
      for (const key of ['a', 'b', 'c', 'd']) expect(await countUnderLock(app.locks, `valkey:${key}`, 8)).toBe(8);
      const held = await app.locks.acquire(['{tenant}:x', '{tenant}:y']);
      const waiting = app.locks.acquire('{tenant}:x');
      await sleep(50);
      await held.release();
      const next = await waiting;
      expect(next.fence).toBeGreaterThan(held.fence);
      await next.release();
    } finally {
      await app.module.close();
    }
  });
});
