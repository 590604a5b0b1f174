import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lock } from '../../lib';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { LOCK_STORE } from '../../lib/nest/redis-lock.tokens';
import { hashSlot } from '../../lib/core/keys/hash-slot';
import { RedisCluster } from '../support/redis-cluster';
import { lockModule } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/**
 * An optimistic hand-over rests on evidence that the giver's lease still holds. On a Cluster, the
 * client as a whole stays ready while the master serving the lock's slot is down: that master may
 * come back empty (or be replaced by a replica that never had the key), so its connection, not
 * the Cluster's, must be ready for the receiver to start before Redis confirmed it.
 */
describe('optimistic hand-over on a Cluster whose slot owner is down', () => {
  let cluster: RedisCluster;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it("the slot hashSlot computes for a key is the server's", async () => {
    for (const key of ['lock:{a}', 'lock:{order:42}', 'plain', 'x{}y', '{}{b}', 'ü{ß}', 'a{b']) {
      expect(hashSlot(key), key).toBe(await cluster.slotOf(key));
    }
  });

  it('the receiver starts only once Redis granted it', async () => {
    const { module, locks } = await lockModule({ redis: cluster.client(), ttl: 30_000, storeTimeout: 500 });
    const store = module.get<LockStore>(LOCK_STORE);
    const attempt = store.tryAcquire.bind(store);
    let failed: (() => void) | undefined;
    // Told when the head's attempt failed: it is idle (sleeping its poll delay) just after.
    store.tryAcquire = (request) =>
      attempt(request).catch((error: unknown) => {
        failed?.();
        throw error;
      });
    try {
      const k = 'cluster-owner-down';
      const storeKey = `lock:{${k}}`;
      const owner = await cluster.ownerOf(await cluster.slotOf(storeKey));
      const holder = await locks.acquire(k);
      let receiver: Lock | undefined;
      const waiting = locks.acquire(k, { wait: 30_000 }).then((lock) => (receiver = lock));
      waiting.catch(() => undefined);
      await waitFor(
        async () => Number((await owner.client().pubsub('SHARDNUMSUB', `${storeKey}:released`))[1]) === 1,
        5_000,
      );
      await owner.kill(); // with all its data; the lock's slot has no master until it is back
      await new Promise<void>((resolve) => (failed = resolve));
      await sleep(2);
      const released = holder.release();
      released.catch(() => undefined); // unanswered while the master is down
      await sleep(200);
      // Started now, the receiver would run on a lease Redis no longer has, beside whoever takes it.
      expect(receiver).toBeUndefined();
      failed = undefined;
      await owner.restart();
      await waiting;
      // Redis holds `token fence` for the key.
      expect((await owner.client().get(storeKey))?.split(' ')[0]).toBe(receiver!.token);
      expect(await receiver!.release()).toBe(true);
    } finally {
      store.tryAcquire = attempt;
      await module.close();
    }
  }, 60_000);
});
