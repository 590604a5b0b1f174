import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';

/** Lock.expiresAt is the lease end as of the grant (or the last renewal), on this process' wall clock. */
describe('Lock.expiresAt', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => server?.stop());

  it('stays put when the wall clock steps (an NTP step, a resumed VM) before it is first read', async () => {
    const { module, locks } = await lockModule({ redis: server.url });
    try {
      const before = Date.now();
      const lock = await locks.acquire('wall-step', { ttl: 30_000, autoRenew: false });
      const after = Date.now();
      const realNow = Date.now.bind(Date);
      const stepped = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
      const reported = lock.expiresAt;
      stepped.mockRestore();
      expect(reported).toBeGreaterThanOrEqual(before + 30_000 - 50);
      expect(reported).toBeLessThanOrEqual(after + 30_000 + 50);
      await lock.release();
    } finally {
      await module.close();
    }
  });
});
