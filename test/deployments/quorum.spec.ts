import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LockArgumentError, LockStoreError } from '../../lib';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { fenceCounterOf, toStoreKey } from '../../lib/core/keys/store-keys';
import { RedisServer } from '../support/redis-server';
import { lockModule, quorumOf } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/** A short bound on each node's call: a down node costs at most this. */
const STORE_TIMEOUT = 200;
/** Generous slack over a configured bound: the claim is "bounded", not "fast". */
const SLACK = 1_500;
const LONG = 30_000;

/** Every subset of `count` nodes, as lists of node indices (2^count of them). */
function subsetsOf(count: number): number[][] {
  return Array.from({ length: 2 ** count }, (_, mask) =>
    Array.from({ length: count }, (_, node) => node).filter((node) => mask & (1 << node)),
  );
}

/**
 * One acquisition, released at once: its fence, retried every 100 ms while nodes come back (ioredis
 * reconnects to a restarted node on its own).
 */
async function fenceOnceUp(store: LockStore, k: string, tokenPrefix: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const owner = `${tokenPrefix}${Math.random()}`;
    try {
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG });
      if (fence !== null) {
        await store.release({ kind: 'mutex', keys: [k], token: owner }).catch(() => undefined);
        return fence;
      }
    } catch (error) {
      if (attempt > 50) throw error;
    }
    await sleep(100);
  }
}

/**
 * The quorum (Redlock) store on five independent redis-servers, faults injected per node: a node
 * is "down" while paused (SIGSTOP: its calls hang, as a slow or partitioned node's do) or killed.
 * Like go-redsync's quorum masks: acquisition succeeds exactly when a majority is free and up.
 */
describe('quorum store: 5 independent masters, every subset down or held', () => {
  let servers: RedisServer[];
  let store: LockStore;
  const unhandled: unknown[] = [];
  const onUnhandled = (error: unknown) => void unhandled.push(error);
  let n = 0;
  const key = () => toStoreKey('lock:', `mask:${++n}`);
  let t = 0;
  const token = () => `token-${++t}`;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    servers = await Promise.all(Array.from({ length: 5 }, () => RedisServer.start()));
    store = quorumOf(servers, STORE_TIMEOUT);
  });

  afterEach(() => {
    for (const server of servers) server.resume();
  });

  afterAll(async () => {
    await store?.close();
    await Promise.all((servers ?? []).map((server) => server.stop()));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  // Before the tests that kill nodes: here every node answers.
  it('inspect names the token a majority holds; forceRelease frees every node, also keys only a minority held', async () => {
    const [k, stray] = [key(), key()];
    const owner = token();
    const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG });
    servers[0]!.pause(); // a node down answers nothing: the majority still names the holder
    try {
      expect(await store.inspect({ kind: 'mutex', keys: [k] })).toEqual([
        { key: k, token: owner, kind: 'mutex', fence, expiresIn: expect.any(Number) },
      ]);
    } finally {
      servers[0]!.resume();
    }
    // A grant that reached two nodes only (its owner crashed mid-way): not held, but in the way.
    for (const server of servers.slice(0, 2)) await server.client().set(stray, 'crashed', 'PX', LONG);
    expect(await store.inspect({ kind: 'mutex', keys: [stray] })).toEqual([]);
    const freed = await store.forceRelease({ kind: 'mutex', keys: [k, stray] });
    expect(freed.map((entry) => [entry.key, entry.token])).toEqual([
      [k, owner],
      [stray, 'crashed'],
    ]);
    for (const server of servers) expect(await server.client().exists(k, stray)).toBe(0);
    expect((await store.tryAcquire({ kind: 'mutex', keys: [k], token: token(), ttl: LONG })).fence).toBeGreaterThan(
      fence!,
    );
  });

  it('for every subset of nodes down: acquired exactly when a majority is up, else LockStoreError', async () => {
    for (const down of subsetsOf(5)) {
      const k = key();
      const owner = token();
      for (const node of down) servers[node]!.pause();
      const outcome = await store
        .tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG })
        .catch((error: unknown) => error);
      for (const node of down) servers[node]!.resume();
      const label = `down: [${down.join(', ')}]`;
      if (5 - down.length >= 3) {
        expect(outcome, label).toMatchObject({ fence: expect.any(Number) });
        expect(await store.release({ kind: 'mutex', keys: [k], token: owner }), label).toBe(true);
      } else {
        expect(outcome, label).toBeInstanceOf(LockStoreError);
      }
      // Whatever the paused nodes ran once resumed (the acquire, then its queued undo) left nothing.
      await waitFor(async () => !(await store.isLocked([k])), 3_000);
    }
  });

  it('for every subset of nodes on which the key is already held: acquired exactly when a majority is free', async () => {
    for (const held of subsetsOf(5)) {
      const k = key();
      const owner = token();
      await Promise.all(held.map((node) => servers[node]!.client().set(k, 'someone-else', 'PX', 10_000)));
      const attempt = await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG });
      const label = `held on: [${held.join(', ')}]`;
      if (5 - held.length >= 3) {
        expect(attempt.fence, label).toBeGreaterThan(0);
        expect(await store.release({ kind: 'mutex', keys: [k], token: owner }), label).toBe(true);
      } else {
        expect(attempt.fence, label).toBeNull();
        expect((attempt as { remaining: number }).remaining, label).toBeGreaterThan(5_000);
      }
      // The free nodes were left as they were (a failed attempt undoes what it took), the held ones too.
      for (let node = 0; node < 5; node++) {
        const value = await servers[node]!.client().get(k);
        expect(value, `${label}, node ${node}`).toBe(held.includes(node) ? 'someone-else' : null);
      }
      await Promise.all(held.map((node) => servers[node]!.client().del(k)));
    }
  });

  it('2 of 5 killed: locks still work; 3 of 5 killed: LockStoreError within storeTimeout, never a hang', async () => {
    const k = key();
    await servers[0]!.kill();
    await servers[1]!.kill();
    try {
      const owner = token();
      const { fence } = await store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG });
      expect(fence).toBeGreaterThan(0);
      expect(await store.extend({ kind: 'mutex', keys: [k], token: owner, ttl: LONG })).toBe(true);
      expect(await store.release({ kind: 'mutex', keys: [k], token: owner })).toBe(true);

      await servers[2]!.kill();
      const started = performance.now();
      const error = await store
        .tryAcquire({ kind: 'mutex', keys: [k], token: token(), ttl: LONG })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockStoreError);
      expect((error as Error).message).toMatch(/majority/);
      expect(performance.now() - started).toBeLessThan(STORE_TIMEOUT + SLACK);
      await expect(store.isLocked([k])).rejects.toBeInstanceOf(LockStoreError);
    } finally {
      await Promise.all([0, 1, 2].map((node) => servers[node]!.restart()));
    }
    // The nodes are back (empty): the same store works again on its own connections.
    await waitFor(
      async () => {
        const owner = token();
        const attempt = await store
          .tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl: LONG })
          .catch(() => ({ fence: null }));
        if (attempt.fence === null) return false;
        await store.release({ kind: 'mutex', keys: [k], token: owner });
        return true;
      },
      10_000,
      100,
    );
  });
});

describe('quorum fences: strictly increasing whatever subset answers, with nodes killed and restarted empty', () => {
  let servers: RedisServer[];
  let store: LockStore;

  beforeAll(async () => {
    servers = await Promise.all([0, 1, 2].map(() => RedisServer.start()));
    store = quorumOf(servers, STORE_TIMEOUT);
  });

  afterAll(async () => {
    await store?.close();
    await Promise.all((servers ?? []).map((server) => server.stop()));
  });

  const fenceNow = (k: string) => fenceOnceUp(store, k, 'fence-');

  it('every acquisition gets a higher fence, while each node in turn is down, then back empty', async () => {
    const k = toStoreKey('lock:', 'fenced');
    // Counters far ahead of every node's clock (µs): the clock seed of a restarted node cannot make
    // fences increase by itself, only the fences written back to a majority can.
    const ahead = 2_000_000_000_000_000;
    await Promise.all(servers.map((server) => server.client().set(fenceCounterOf(k), ahead)));
    const fences = [await fenceNow(k)];
    expect(fences[0]).toBe(ahead + 1);
    for (let round = 0; round < 2; round++) {
      for (let node = 0; node < 3; node++) {
        await servers[node]!.kill();
        // The other two are the majority: both must see the fence the last grant wrote back.
        fences.push(await fenceNow(k));
        fences.push(await fenceNow(k));
        await servers[node]!.restart(); // empty: its counter is gone
        fences.push(await fenceNow(k));
        // Only the restarted node and one other answer: the other carries the fence forward.
        servers[(node + 1) % 3]!.pause();
        try {
          fences.push(await fenceNow(k));
        } finally {
          servers[(node + 1) % 3]!.resume();
        }
      }
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i], `acquisition ${i}`).toBeGreaterThan(fences[i - 1]!);
  }, 60_000);
});

/**
 * Redis' default `save` points make a restart from an older snapshot the common restart after a
 * crash: the counters it restores are behind fences a majority already granted. Each grant's
 * proposals are above the nodes' clocks, which are past every fence issued before.
 */
describe('quorum store: 3 masters, nodes restarted from older snapshots', () => {
  let servers: RedisServer[];
  let store: LockStore;

  beforeEach(async () => {
    servers = await Promise.all([0, 1, 2].map(() => RedisServer.start()));
    store = quorumOf(servers, STORE_TIMEOUT);
  });

  afterEach(async () => {
    for (const server of servers ?? []) server.resume();
    await store?.close();
    await Promise.all((servers ?? []).map((server) => server.stop()));
  });

  const fenceNow = (k: string) => fenceOnceUp(store, k, 'snapshot-');

  async function fences(k: string, count: number): Promise<number[]> {
    const issued: number[] = [];
    for (let i = 0; i < count; i++) issued.push(await fenceNow(k));
    return issued;
  }

  function expectAboveAll(after: number[], before: number[]): void {
    const last = Math.max(...before);
    for (const fence of after) {
      expect(fence).toBeGreaterThan(last);
      expect(before).not.toContain(fence);
    }
  }

  it('one node restarted from its snapshot, another that missed the latest grants (paused): 5 of 5 fences above every earlier one', async () => {
    const k = toStoreKey('lock:', 'one-snapshot');
    const before = await fences(k, 5);
    await servers[0]!.client().save();
    servers[1]!.pause(); // misses the next grants, keeps its data
    before.push(...(await fences(k, 20)));
    await servers[0]!.restart(); // SIGKILL, then back from the older snapshot
    servers[1]!.resume();
    servers[2]!.pause(); // the only node that saw every grant is out: nodes 0 and 1 are the majority
    const after = await fences(k, 5);
    expectAboveAll(after, before);
  }, 60_000);

  it('two nodes restarted from their snapshots: 5 of 5 fences above every earlier one', async () => {
    const k = toStoreKey('lock:', 'two-snapshots');
    const before = await fences(k, 5);
    await Promise.all([0, 1].map((node) => servers[node]!.client().save()));
    before.push(...(await fences(k, 20)));
    for (const node of [0, 1]) await servers[node]!.restart();
    servers[2]!.pause();
    const after = await fences(k, 5);
    expectAboveAll(after, before);
  }, 60_000);
});

describe('quorum module options', () => {
  let servers: RedisServer[];

  beforeAll(async () => {
    servers = await Promise.all([0, 1, 2].map(() => RedisServer.start()));
  });

  afterAll(async () => {
    await Promise.all((servers ?? []).map((server) => server.stop()));
  });

  it('fewer than three nodes is a LockArgumentError at bootstrap', async () => {
    const error = await lockModule({ redis: [servers[0]!.url, servers[1]!.url] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockArgumentError);
    expect((error as LockArgumentError).argument).toBe('options.redis');
  });

  it('a client, options and a URL as nodes: locks work; the module closes only the connections it made', async () => {
    const mine = new Redis(servers[0]!.url);
    try {
      const { module, locks } = await lockModule({
        redis: [mine, { host: '127.0.0.1', port: servers[1]!.port }, servers[2]!.url],
        wait: 0,
      });
      const lock = await locks.acquire('opts');
      for (const server of servers)
        expect(await server.client().get('lock:{opts}')).toBe(`${lock.token} ${lock.fence}`);
      await expect(locks.tryAcquire('opts')).resolves.toBeNull();
      expect(await lock.release()).toBe(true);
      const observer = servers[1]!.client();
      const connections = async () =>
        String(await observer.client('LIST'))
          .split('\n')
          .filter(Boolean).length;
      const before = await connections();
      await module.close();
      expect(mine.status).toBe('ready');
      await waitFor(async () => (await connections()) === before - 1, 3_000); // the module's own, closed
    } finally {
      mine.disconnect();
    }
  });
});
