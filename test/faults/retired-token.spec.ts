import { describe, expect, it } from 'vitest';
import { holderOf } from '../../lib/core/holder/holder-id';
import { ACQUIRE_SCRIPT } from '../../lib/stores/redis/lua-scripts';
import { type FaultProxy, scriptCall } from '../support/fault-proxy';
import { proxiedServerPerSuite } from '../support/proxied-server';
import type { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/**
 * A waiter's attempt that timed out may still run, and so may the undo sent after it; a Cluster
 * retries each on its own timer, so that undo could run after a later grant to the same token and
 * delete a lock its holder still relies on (seen in test/deployments/cluster-hand-over.spec.ts). A waiter
 * therefore never asks again with a token whose call failed.
 */
describe('a waiter whose attempt timed out', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  proxiedServerPerSuite((started) => ({ server, proxy } = started));

  it('takes the lock with a fresh token, which the late undo leaves alone', async () => {
    const waiterSide = await lockModule({ redis: proxy.url, ttl: 30_000, storeTimeout: 300 });
    const holderSide = await lockModule({ redis: server.url, ttl: 30_000 });
    const direct = server.client();
    const acquires = proxy.watch(scriptCall(ACQUIRE_SCRIPT));
    try {
      const k = 'retired-token';
      const holder = await holderSide.locks.acquire(k);
      const waiting = waiterSide.locks.acquire(k, { wait: 10_000 });
      await waitFor(async () => Number((await direct.pubsub('NUMSUB', `lock:{${k}}:released`))[1]) === 1, 2_000);
      // The head's next attempt is answered after its storeTimeout.
      const slow = proxy.delayReplies(scriptCall(ACQUIRE_SCRIPT), 800, 1);
      await slow.requested(1, 3_000);
      const timedOutToken = slow.commands[0]![5];
      await sleep(400); // timed out by now
      await holder.release();
      const lock = await waiting;
      expect(lock.token).not.toBe(timedOutToken);
      // The fresh token is the same holder's: inspect still names this process.
      expect(holderOf(lock.token)).toBe(holderOf(String(timedOutToken)));
      expect(holderOf(lock.token)).toBeDefined();
      await sleep(600); // the slow attempt and every undo have run
      // Redis holds `token fence` for the key.
      expect((await direct.get(`lock:{${k}}`))?.split(' ')[0]).toBe(lock.token);
      expect(acquires.commands.length).toBeGreaterThan(1);
      expect(await lock.release()).toBe(true);
    } finally {
      proxy.reset();
      await waiterSide.module.close();
      await holderSide.module.close();
    }
  });
});
