import { once } from 'node:events';
import type { Redis, RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { waitFor } from '../support/wait-for';

/**
 * Release notifications must reach waiters whatever options the user's own ioredis client has:
 * a waiter that never hears a release falls back to polling, and hand-overs between processes
 * go from about a millisecond to hundreds.
 */
describe.each<[string, RedisOptions, string]>([
  ['keyPrefix', { keyPrefix: 'app:' }, 'app:lock:{k}:released'],
  ['enableOfflineQueue: false', { enableOfflineQueue: false }, 'lock:{k}:released'],
  ['lazyConnect', { lazyConnect: true }, 'lock:{k}:released'],
])("a user's client with %s", (_name, clientOptions, channel) => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('waiters listen on the channel the release script publishes on, and are woken by it', async () => {
    const holderClient = server.client(clientOptions);
    const waiterClient = server.client(clientOptions);
    // A connected client, as an app has it by the time it takes locks.
    await Promise.all([connected(holderClient), connected(waiterClient)]);
    const holderSide = await lockModule({ redis: holderClient });
    const waiterSide = await lockModule({ redis: waiterClient });
    const admin = server.client();
    try {
      const holder = await holderSide.locks.acquire('k', { ttl: 30_000 });
      const waiting = waiterSide.locks.acquire('k', { wait: 10_000 });
      // The waiter's subscription is on the very channel the release announces on.
      await waitFor(async () => (await admin.pubsub('NUMSUB', channel))[1] === 1, 3_000);
      const heard = new Promise<string>((resolve) => {
        const listener = server.client();
        void listener.subscribe(channel).then(() => listener.on('message', (name: string) => resolve(name)));
      });
      await waitFor(async () => (await admin.pubsub('NUMSUB', channel))[1] === 2, 3_000);
      await holder.release();
      expect(await heard).toBe(channel);
      const lock = await waiting;
      expect(lock.fence).toBeGreaterThan(holder.fence);
      await lock.release();
    } finally {
      await waiterSide.module.close();
      await holderSide.module.close();
    }
  });
});

async function connected(client: Redis): Promise<void> {
  if (client.status === 'wait')
    await client.connect(); // lazyConnect: the first command would connect it
  else if (client.status !== 'ready') await once(client, 'ready');
}
