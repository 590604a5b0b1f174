import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toStoreKey } from '../../lib/core/keys/store-keys';
import { QuorumStore } from '../../lib/stores/quorum/quorum.store';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { RedisServer } from '../support/redis-server';
import { sleep, waitFor } from '../support/wait-for';

/** How much later than its subscription node 2's listen() answers, in ms. */
const LATE = 300;

/**
 * A quorum listener answers once a majority of nodes listen; the others may still be answering
 * when its owner stops it, though already subscribed in Redis (an answer that comes late, as
 * through a slow link or a busy event loop). Node 2's listen() here answers LATE ms after it
 * subscribed; until then the release notifications it hears still reach the quorum's listener.
 */
describe('a quorum release listener stopped while a node has not answered yet', () => {
  let servers: RedisServer[];
  let store: QuorumStore;
  let node2Listening = false;

  beforeAll(async () => {
    servers = await Promise.all([0, 1, 2].map(() => RedisServer.start()));
    const nodes = servers.map((server) => new RedisStore(new Redis(server.url), true, 2_000, new Logger('quorum')));
    const listen = nodes[2]!.onRelease.bind(nodes[2]);
    nodes[2]!.onRelease = async (keys, listener) => {
      const stop = await listen(keys, listener);
      node2Listening = true;
      await sleep(LATE);
      return stop;
    };
    store = new QuorumStore(nodes);
  });
  afterAll(async () => {
    await store?.close();
    await Promise.all((servers ?? []).map((server) => server.stop()));
  });

  it('is never called after the stop, not even by the node that answers after it', async () => {
    const key = toStoreKey('stopped-listener:', 'k');
    let heard = 0;
    const stop = await store.onRelease([key], () => heard++);
    await waitFor(() => node2Listening, 2_000);
    stop();
    await store.tryAcquire({ kind: 'mutex', keys: [key], token: 'holder', ttl: 30_000 });
    await store.release({ kind: 'mutex', keys: [key], token: 'holder' });
    await sleep(LATE + 100);
    expect(heard).toBe(0);
  });
});
