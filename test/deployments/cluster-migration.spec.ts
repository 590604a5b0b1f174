import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lock, LockService } from '../../lib';
import { fenceCounterOf } from '../../lib/core/keys/store-keys';
import { RedisCluster } from '../support/redis-cluster';
import type { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { waitFor } from '../support/wait-for';

type App = { module: TestingModule; locks: LockService };

/**
 * Slot migrations on a real three-master Redis Cluster, met by the lock while it hands a lock
 * over or takes one: MOVED (the slot moved, the client's map is stale), ASK (the keys moved, the
 * slot not yet), TRYAGAIN (a command's keys are split between the two masters), CROSSSLOT. Each
 * migration moves one slot between two masters, step by step (see RedisCluster.migration).
 */
describe('a Redis Cluster slot migration under the lock', () => {
  let cluster: RedisCluster;
  /** The app that holds and hands over, with a waiter of its own. */
  let app: App;
  /** Another app on its own Cluster client: what another process sees. */
  let other: App;
  const unhandled: unknown[] = [];
  const onUnhandled = (error: unknown) => void unhandled.push(error);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    cluster = await RedisCluster.start(3);
    app = await lockModule({ redis: cluster.client(), wait: 10_000 });
    other = await lockModule({ redis: cluster.client(), wait: 0 });
  }, 60_000);

  afterAll(async () => {
    await other?.module.close();
    await app?.module.close();
    await cluster?.stop();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  /** Where `storeKey`'s slot lives now, and another master to move it to. */
  async function placesOf(storeKey: string) {
    const slot = await cluster.slotOf(storeKey);
    const from = await cluster.ownerOf(slot);
    const to = cluster.servers.find((server) => server !== from)!;
    return { slot, from, to, migration: await cluster.migration(slot, from, to) };
  }

  /** `key`'s value on `server`, also while the slot is only importing there (ASKING, as a redirected client). */
  async function readOn(server: RedisServer, key: string): Promise<string | null> {
    const client = server.client();
    await client.call('ASKING');
    return client.get(key);
  }

  /** The masters that store `storeKey` (read in its slot on each: a GET elsewhere answers MOVED). */
  async function mastersWith(storeKey: string): Promise<RedisServer[]> {
    const slot = await cluster.slotOf(storeKey);
    const stored = await Promise.all(
      cluster.servers.map(async (server) => (await server.client().cluster('GETKEYSINSLOT', slot, 100)) as string[]),
    );
    return cluster.servers.filter((_, index) => stored[index]!.includes(storeKey));
  }

  /**
   * Holds `key` in `app` with a waiter of `app` queued behind it; `during` changes the cluster;
   * then the holder releases (a hand-over to the waiter, sent to the master the client believes
   * owns the slot). The waiter must get the lock with a higher fence, held in Redis on `to` alone
   * (with that fence beside its token), and nobody else may take it until it releases.
   */
  async function handOverAcross(
    key: string,
    during: (storeKey: string) => Promise<RedisServer>,
    /** Before another app takes the lock again (a migration left half-way is finished there). */
    beforeNext: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    const storeKey = `lock:{${key}}`;
    const holder = await app.locks.acquire(key, { ttl: 10_000 });
    let received: Lock | undefined;
    const waiting = app.locks.acquire(key, { ttl: 10_000 }).then((lock) => (received = lock));
    // Queued: its first attempt found the key busy (it then listens on the key's shard).
    const { from } = await placesOf(storeKey);
    await waitFor(
      async () =>
        ((await from.client().call('PUBSUB', 'SHARDNUMSUB', `${storeKey}:released`)) as [string, number])[1] === 1,
    );
    const to = await during(storeKey);
    expect(await holder.release()).toBe(true);
    await waiting;
    expect(received!.fence).toBeGreaterThan(holder.fence);
    await waitFor(async () => (await readOn(to, storeKey)) === `${received!.token} ${received!.fence}`, 5_000);
    expect(await mastersWith(storeKey)).toEqual([to]);
    expect(await other.locks.tryAcquire(key)).toBeNull();
    expect(received!.held).toBe(true);
    expect(await received!.release()).toBe(true);
    await beforeNext();
    const next = await other.locks.acquire(key);
    expect(next.fence).toBeGreaterThan(received!.fence);
    expect(await next.release()).toBe(true);
  }

  it('MOVED: the slot moved to another master before the hand-over; it follows the slot', async () => {
    await handOverAcross('migrating:moved', async (storeKey) => {
      const { to, migration } = await placesOf(storeKey);
      await migration.begin();
      await migration.move(storeKey, fenceCounterOf(storeKey));
      await migration.finish();
      return to;
    });
  });

  it('ASK: the keys moved, the slot is still migrating; the hand-over runs where the keys are', async () => {
    let finish: (() => Promise<void>) | undefined;
    await handOverAcross(
      'migrating:ask',
      async (storeKey) => {
        const { to, migration } = await placesOf(storeKey);
        await migration.begin();
        await migration.move(storeKey, fenceCounterOf(storeKey));
        finish = migration.finish;
        return to;
      },
      // A free lock whose counter moved cannot be taken until the slot has (next test).
      () => finish!(),
    );
  });

  it('TRYAGAIN: the lock key moved, its fence counter not yet; the hand-over waits for the rest', async () => {
    await handOverAcross('migrating:tryagain', async (storeKey) => {
      const { to, migration } = await placesOf(storeKey);
      await migration.begin();
      await migration.move(storeKey);
      // The counter follows 300 ms later, while the hand-over is retried; then the slot moves.
      setTimeout(() => {
        void migration
          .move(fenceCounterOf(storeKey))
          .then(() => migration.finish())
          .catch((error: unknown) => unhandled.push(error));
      }, 300);
      return to;
    });
  });

  it('a lock whose slot counter moved while its slot still migrates: refused (TRYAGAIN until ioredis gives up), nothing taken; granted once it moved', async () => {
    const keys = ['{migrating:multi}:a', '{migrating:multi}:b'];
    const storeKeys = keys.map((key) => `lock:${key}`);
    const first = await other.locks.acquire(keys);
    expect(await first.release()).toBe(true);
    const { to, migration } = await placesOf(storeKeys[0]!);
    await migration.begin();
    await migration.move(fenceCounterOf(storeKeys[0]!)); // the slot's one counter; the lock keys exist nowhere
    const refused = await other.locks.acquire(keys).catch((error: unknown) => error);
    // ioredis retries TRYAGAIN on a random master (MOVED, ASK, TRYAGAIN again) until its
    // redirection budget is spent; the last of them is named.
    expect(refused).toMatchObject({
      code: 'LOCK_UNAVAILABLE',
      message: expect.stringContaining('Too many Cluster redirections'),
    });
    for (const storeKey of storeKeys) expect(await mastersWith(storeKey)).toEqual([]);
    await migration.finish();
    const lock = await other.locks.acquire(keys);
    expect(lock.fence).toBeGreaterThan(first.fence);
    for (const storeKey of storeKeys) expect(await mastersWith(storeKey)).toEqual([to]);
    expect(await lock.release()).toBe(true);
  });

  it('CROSSSLOT while one of the slots migrates: LockStoreError at once, nothing taken on either master', async () => {
    const keys = ['migrating:x', 'migrating:y'];
    const storeKeys = keys.map((key) => `lock:{${key}}`);
    expect(await cluster.slotOf(storeKeys[0]!)).not.toBe(await cluster.slotOf(storeKeys[1]!));
    const single = await other.locks.acquire(keys[0]!); // x has a counter to move
    expect(await single.release()).toBe(true);
    const { migration } = await placesOf(storeKeys[0]!);
    await migration.begin();
    await migration.move(fenceCounterOf(storeKeys[0]!));
    for (const order of [keys, [...keys].reverse()]) {
      const refused = await app.locks.acquire(order, { wait: 5_000 }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'LOCK_UNAVAILABLE', message: expect.stringContaining('CROSSSLOT') });
    }
    await migration.finish();
    for (const storeKey of storeKeys) expect(await mastersWith(storeKey)).toEqual([]);
  });

  it('an acquire that timed out while ioredis retried TRYAGAIN, and ran later: no lock is left that nobody holds', async () => {
    const impatient = await lockModule({ redis: cluster.client(), wait: 0, storeTimeout: 300 });
    try {
      const key = 'migrating:late';
      const storeKey = `lock:{${key}}`;
      const first = await other.locks.acquire(key);
      expect(await first.release()).toBe(true);
      const { migration } = await placesOf(storeKey);
      await migration.begin();
      await migration.move(fenceCounterOf(storeKey));
      // ioredis retries TRYAGAIN every 100 ms for up to 16 redirections; the call gives up at 300.
      setTimeout(() => void migration.finish().catch((error: unknown) => unhandled.push(error)), 450);
      const refused = await impatient.locks.acquire(key, { ttl: 20_000 }).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: 'LOCK_UNAVAILABLE' });
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // every retry has run or given up
      expect(await mastersWith(storeKey)).toEqual([]);
      const lock = await other.locks.acquire(key);
      expect(lock.fence).toBeGreaterThan(first.fence);
      expect(await lock.release()).toBe(true);
    } finally {
      await impatient.module.close();
    }
  });
});
