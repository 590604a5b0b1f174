import { Cluster } from 'ioredis';
import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LockService, LockStoreError } from '../../lib';
import { compileChaosWorkers } from '../support/chaos-workers';
import { ExclusionProbe } from '../support/exclusion-probe';
import { RedisCluster } from '../support/redis-cluster';
import { lockModule } from '../support/stores';
import { checkOperations } from '../support/operations-check';
import { fenceCounterOf } from '../../lib/core/keys/store-keys';
import { FENCE_BLOCK } from '../../lib/core/tuning';
import { sleep, waitFor } from '../support/wait-for';

describe('on a Redis Cluster (3 masters)', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let module: TestingModule;
  let locks: LockService;
  let other: { module: TestingModule; locks: LockService };

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    client = cluster.client();
    ({ module, locks } = await lockModule({ redis: client, wait: 10_000, holderId: 'app-a' }));
    other = await lockModule({ redis: cluster.client(), wait: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await other?.module.close();
    await module?.close();
    await cluster?.stop();
  });

  it('locks keys that live on different masters, each with its fence counter in its slot', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `order:${i}`);
    const held = await Promise.all(keys.map((key) => locks.acquire(key)));
    for (const [i, lock] of held.entries()) {
      expect(await client.get(`lock:{${keys[i]}}`)).toBe(`${lock.token} ${lock.fence}`);
      // The slot's counter lives on the same master (a MOVED otherwise); it may have moved on.
      expect(Number(await client.get(fenceCounterOf(`lock:{${keys[i]}}`)))).toBeGreaterThanOrEqual(lock.fence);
    }
    const sizes = await Promise.all(cluster.servers.map((server) => server.client().dbsize()));
    expect(sizes.filter((size) => size > 0).length).toBeGreaterThanOrEqual(2); // spread over masters
    expect(await other.locks.tryAcquire('order:3')).toBeNull();
    for (const lock of held) expect(await lock.release()).toBe(true);
  });

  it('inspect, forceRelease and leader election work on keys of every master', async () => {
    await checkOperations(
      locks,
      other.locks,
      Array.from({ length: 6 }, (_, i) => `ops:${i}`),
    );
  });

  it('takes a multi-key lock whose keys share a hash tag', async () => {
    const lock = await locks.acquire(['{tenant:7}:billing', '{tenant:7}:report']);
    expect(await other.locks.tryAcquire('{tenant:7}:report')).toBeNull();
    expect(await lock.release()).toBe(true);
  });

  it('counting and read locks: keys on different masters, waiters in another app woken through the shard', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `export:${i}`);
    const permits = await Promise.all(keys.map((key) => locks.acquire(key, { limit: 1 })));
    for (const [i, permit] of permits.entries()) {
      // The shares (sorted set) and the slot's fence counter on the key's master; the counter
      // left so that the slot's next grant comes after the permit (it reserved no block).
      expect(await client.zcard(`lock:{${keys[i]}}`)).toBe(1);
      expect(Number(await client.get(fenceCounterOf(`lock:{${keys[i]}}`))) + FENCE_BLOCK).toBeGreaterThan(permit.fence);
    }
    const waiting = other.locks.acquire(keys[0]!, { limit: 1 });
    await sleep(100);
    for (const permit of permits) expect(await permit.release()).toBe(true);
    const next = await waiting;
    expect(next.fence).toBeGreaterThan(permits[0]!.fence);
    await next.release();
    const readers = await Promise.all(
      [locks, other.locks].map((service) => service.acquire('{tenant:9}:doc', { mode: 'read' })),
    );
    const writer = other.locks.acquire('{tenant:9}:doc', { mode: 'write' });
    await sleep(100);
    for (const reader of readers) await reader.release();
    const wrote = await writer;
    expect(wrote.fence).toBeGreaterThan(Math.max(...readers.map((reader) => reader.fence)));
    await wrote.release();
  });

  it('rejects a multi-key lock across slots with LockStoreError (CROSSSLOT), taking nothing', async () => {
    await expect(locks.acquire(['a', 'b'], { wait: 0 })).rejects.toBeInstanceOf(LockStoreError);
    expect(await locks.isLocked('a')).toBe(false);
    expect(await locks.isLocked('b')).toBe(false);
  });

  it("wakes a waiter in another app on release, through the cluster's pub/sub", async () => {
    const holder = await locks.acquire('shared-on-cluster');
    const waiting = other.locks.acquire('shared-on-cluster');
    await sleep(100);
    await holder.release();
    const lock = await waiting;
    expect(lock.fence).toBeGreaterThan(holder.fence);
    await lock.release();
  });

  /** Per node, how many sharded (SSUBSCRIBE) and classic (SUBSCRIBE) subscribers `channel` has. */
  async function subscribers(channel: string) {
    return Promise.all(
      cluster.servers.map(async (server) => {
        const admin = server.client();
        const sharded = (await admin.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
        const classic = (await admin.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
        admin.disconnect();
        return { sharded: Number(sharded[1]), classic: Number(classic[1]) };
      }),
    );
  }

  /** Resolves once one waiter listens for `channel` with SSUBSCRIBE, on its shard's node only. */
  async function listenedOnItsShard(channel: string): Promise<void> {
    await waitFor(async () => (await subscribers(channel)).some((count) => count.sharded === 1), 5_000, 20);
    const counts = await subscribers(channel);
    expect(counts.map((count) => count.sharded).sort()).toEqual([0, 0, 1]);
    expect(counts.every((count) => count.classic === 0)).toBe(true);
  }

  it('announces a release with SPUBLISH on its own shard, and the waiter listens with SSUBSCRIBE', async () => {
    const channel = 'lock:{sharded-wake}:released';
    const holder = await locks.acquire('sharded-wake');
    const waiting = other.locks.acquire('sharded-wake');
    await listenedOnItsShard(channel);

    // Every node's MONITOR sees what runs on it: the release script's SPUBLISH, and no PUBLISH.
    const seen: string[][] = [];
    const monitors = await Promise.all(cluster.servers.map((server) => server.client().monitor()));
    for (const monitor of monitors) monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
    await holder.release();
    const lock = await waiting;
    await waitFor(() => seen.some((args) => args[0]?.toLowerCase() === 'spublish'), 2_000);
    for (const monitor of monitors) monitor.disconnect();
    expect(seen.filter((args) => args[0]?.toLowerCase() === 'spublish').map((args) => args[1])).toEqual([channel]);
    expect(seen.some((args) => args[0]?.toLowerCase() === 'publish')).toBe(false);
    expect(lock.fence).toBeGreaterThan(holder.fence);
    await lock.release();
  });

  it('with a keyPrefix on the Cluster client, the sharded channel carries it and the waiter is woken', async () => {
    const prefixed = () => {
      const nodes = cluster.servers.map((server) => ({ host: '127.0.0.1', port: server.port }));
      const client = new Cluster(nodes, { keyPrefix: 'app:' });
      client.on('error', () => undefined);
      return client;
    };
    const [first, second] = [prefixed(), prefixed()];
    const a = await lockModule({ redis: first, wait: 10_000 });
    const b = await lockModule({ redis: second, wait: 10_000 });
    try {
      const holder = await a.locks.acquire('prefixed');
      const waiting = b.locks.acquire('prefixed');
      await listenedOnItsShard('app:lock:{prefixed}:released');
      await holder.release();
      const lock = await waiting;
      expect(lock.fence).toBeGreaterThan(holder.fence);
      await lock.release();
    } finally {
      await b.module.close();
      await a.module.close();
      first.disconnect();
      second.disconnect();
    }
  });

  it("wakes a waiter in another process through the key's shard", async () => {
    const workers = await compileChaosWorkers();
    try {
      const nodes = cluster.servers.map((server) => `127.0.0.1:${server.port}`).join(',');
      const worker = await workers.start('chaos-worker', { REDIS_CLUSTER_NODES: nodes });
      const holder = await locks.acquire('across-processes');
      worker.send({ cmd: 'acquire', key: 'across-processes', wait: 20_000, hold: 10 });
      await listenedOnItsShard('lock:{across-processes}:released');
      await holder.release();
      const acquired = await worker.next('acquired', 20_000);
      expect(acquired.fence).toBeGreaterThan(holder.fence);
      expect(worker.unhandled()).toEqual([]);
    } finally {
      await workers.close();
    }
  }, 60_000);

  it('keeps mutual exclusion between two apps: a non-atomic counter comes out exact', async () => {
    const probe = new ExclusionProbe();
    const worker = async (service: LockService) => {
      for (let i = 0; i < 10; i++) await service.withLock('cluster-counter', () => probe.increment(1, 2));
    };
    await Promise.all([worker(locks), worker(locks), worker(other.locks), worker(other.locks)]);
    expect(probe.overlaps).toBe(0);
    expect(probe.count).toBe(40);
  });
});
