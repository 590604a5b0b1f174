import { hostname } from 'node:os';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockArgumentError, LockLostError, LockService, RedisLockModule, type RedisLockModuleOptions } from '../../lib';
import { CapturedLogger } from '../support/captured-logger';
import { STORES, type StoreRun } from '../support/stores';

/** Operators' tools: who holds a lock (inspect) and taking it from a stuck holder (forceRelease). */
describe.each(STORES)('inspect and forceRelease on the $name store', (descriptor) => {
  let run: StoreRun;
  const modules: TestingModule[] = [];
  const logger = new CapturedLogger();
  /** Two replicas with their own holder ids (on the memory store, one process: the same one). */
  let a: LockService;
  let b: LockService;
  let n = 0;
  const key = () => `ops:k${++n}`;

  async function replica(options: RedisLockModuleOptions): Promise<LockService> {
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRoot({ ...run.options, ...options })],
    })
      .setLogger(logger)
      .compile();
    await module.init();
    modules.push(module);
    return module.get(LockService);
  }

  beforeAll(async () => {
    run = await descriptor.start();
    a = await replica({ holderId: 'worker-a' });
    b = descriptor.name === 'memory' ? a : await replica({ holderId: 'worker-b' });
  });

  afterAll(async () => {
    for (const module of modules.splice(0).reverse()) await module.close();
    await run?.stop();
  });

  it('inspect names the holder by its holderId, with its fence and time left; a free key is not held', async () => {
    const k = key();
    expect(await b.inspect(k)).toEqual({ held: false, holders: [] });
    const lock = await a.acquire(k, { ttl: 5_000 });
    const seen = await b.inspect(k);
    expect(seen.held).toBe(true);
    expect(seen.holders).toHaveLength(1);
    const [holder] = seen.holders;
    expect(holder!.holder).toBe('worker-a');
    expect(holder!.fence).toBe(lock.fence);
    expect(holder!.expiresIn).toBeGreaterThan(3_000);
    expect(holder!.expiresIn).toBeLessThanOrEqual(5_000);
    await lock.release();
    expect(await b.inspect(k)).toEqual({ held: false, holders: [] });
  });

  it('several keys taken together are one holder', async () => {
    const [k1, k2] = [key(), key()];
    const lock = await a.acquire([k1, k2]);
    const seen = await b.inspect([k1, k2]);
    expect(seen.holders.map((holder) => [holder.holder, holder.fence])).toEqual([['worker-a', lock.fence]]);
    await lock.release();
  });

  it('the default holderId is the host name and the process id', async () => {
    const plain = await replica({});
    const k = key();
    const lock = await plain.acquire(k);
    const { holders } = await plain.inspect(k);
    expect(holders[0]!.holder).toBe(`${hostname()}:${process.pid}`);
    await lock.release();
  });

  it(
    "forceRelease frees a stuck holder's key at once: the waiter gets it with a higher fence, " +
      'the old holder learns at its next renewal and its release leaves the new holder alone',
    async () => {
      const k = key();
      const ttl = 1_500;
      const stuck = await a.acquire(k, { ttl });
      const lost = new Promise<unknown>((resolve) =>
        stuck.signal.addEventListener('abort', () => resolve(stuck.signal.reason)),
      );
      const waiting = b.acquire(k, { wait: 20_000 });
      const startedAt = Date.now();
      expect(await b.forceRelease(k)).toBe(true);
      const next = await waiting;
      // Woken by the release notification, not by the stuck lease's end (which renewal keeps away).
      expect(Date.now() - startedAt).toBeLessThan(ttl);
      expect(next.fence).toBeGreaterThan(stuck.fence);
      const reason = await lost;
      expect(Date.now() - startedAt).toBeLessThan(ttl + 1_000);
      expect(reason).toBeInstanceOf(LockLostError);
      expect((reason as LockLostError).reason).toBe('not-held');
      expect(await stuck.release()).toBe(false);
      expect(next.held).toBe(true);
      const { holders } = await a.inspect(k);
      expect(holders.map((holder) => holder.fence)).toEqual([next.fence]);
      expect(logger.texts('warn', `Force-released lock "${k}" held by worker-a`)).toHaveLength(1);
      await next.release();
      expect(await a.forceRelease(k)).toBe(false);
    },
  );

  it('permits and readers: inspect lists each holder; forceRelease frees them all, and each learns it', async ({
    skip,
  }) => {
    if (descriptor.name === 'quorum') skip('the quorum store has no counting or read locks');
    const [counted, shared] = [key(), key()];
    const permits = [
      await a.acquire(counted, { limit: 3, ttl: 1_500 }),
      await b.acquire(counted, { limit: 3, ttl: 1_500 }),
    ];
    const reader = await a.acquire(shared, { mode: 'read' });
    const seen = await b.inspect(counted);
    expect(seen.held).toBe(true);
    const expected = permits.map((permit, i) => [
      descriptor.name === 'memory' || i === 0 ? 'worker-a' : 'worker-b',
      permit.fence,
    ]);
    expect(
      seen.holders.map((holder) => [holder.holder, holder.fence]).sort((x, y) => Number(x[1]) - Number(y[1])),
    ).toEqual(expected);
    expect(seen.holders.map((holder) => holder.kind)).toEqual(permits.map(() => 'permit'));
    for (const holder of seen.holders) expect(holder.expiresIn).toBeGreaterThan(0);
    expect((await a.inspect(shared)).holders.map((holder) => [holder.kind, holder.fence])).toEqual([
      ['read', reader.fence],
    ]);
    const lost = permits.map(
      (permit) =>
        new Promise((resolve) => permit.signal.addEventListener('abort', () => resolve(permit.signal.reason))),
    );
    expect(await b.forceRelease(counted)).toBe(true);
    expect(await a.inspect(counted)).toEqual({ held: false, holders: [] });
    const writer = await b.acquire(counted, { wait: 0 });
    expect(writer.fence).toBeGreaterThan(Math.max(...permits.map((permit) => permit.fence)));
    for (const reason of await Promise.all(lost)) expect((reason as LockLostError).reason).toBe('not-held');
    for (const permit of permits) expect(await permit.release()).toBe(false);
    expect(writer.held).toBe(true);
    await writer.release();
    await reader.release();
  });

  it('bad input is an argument error before anything reaches the store', async () => {
    for (const bad of ['', '   ', 42, null, undefined, ['a', 7]] as unknown[]) {
      await expect(a.inspect(bad as string)).rejects.toBeInstanceOf(LockArgumentError);
      await expect(a.forceRelease(bad as string)).rejects.toBeInstanceOf(LockArgumentError);
    }
  });
});

describe('the holderId option', () => {
  it.each([[''], ['x'.repeat(129)], ['pod\n7'], [42]])(
    'refuses %j at bootstrap with an argument error',
    async (holderId) => {
      const building = Test.createTestingModule({
        imports: [RedisLockModule.forRoot({ store: 'memory', holderId: holderId as string })],
      }).compile();
      await expect(building).rejects.toBeInstanceOf(LockArgumentError);
    },
  );

  it('accepts any other text, spaces and colons included, and inspect gives it back as it was', async () => {
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRoot({ store: 'memory', holderId: 'billing worker #3: eu-west' })],
    }).compile();
    await module.init();
    const locks = module.get(LockService);
    const lock = await locks.acquire('k');
    expect((await locks.inspect('k')).holders[0]!.holder).toBe('billing worker #3: eu-west');
    // The random part stays 128 bits.
    expect(Buffer.from(lock.token.split('.')[0]!, 'base64url')).toHaveLength(16);
    await lock.release();
    await module.close();
  });
});
