import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderOnly, LockArgumentError, LockService, RedisLockModule, WithLock } from '../../lib';
import { recordCommands } from '../support/command-recorder';
import { RedisServer } from '../support/redis-server';

/** Decorated methods whose keys can only be known at call time, and come out wrong. */
@Injectable()
class Orders {
  @WithLock((_id: string) => {
    throw new Error('no tenant in context');
  })
  async keyFunctionThrows(_id: string): Promise<void> {}

  @WithLock((id?: string) => `order:${id}`)
  async keyFromUndefined(_id?: string): Promise<void> {}

  @WithLock(() => 42 as unknown as string)
  async keyFunctionReturnsNumber(): Promise<void> {}

  @WithLock(() => Promise.resolve('order:1') as unknown as string)
  async keyFunctionReturnsPromise(): Promise<void> {}

  @WithLock(() => [] as string[])
  async keyFunctionReturnsNoKeys(): Promise<void> {}

  @WithLock('order:{0.id}')
  async templateFromMissingProperty(_order: { id?: string }): Promise<void> {}
}

const long = 'k'.repeat(2_000);
const tooMany = Array.from({ length: 65 }, (_, i) => `k${i}`);

/** [what is wrong, the call, the argument the error must name]. */
type Row = [string, (locks: LockService, orders: Orders) => unknown, string];

const rows: Row[] = [
  ['empty key', (l) => l.acquire(''), 'key'],
  ['blank key', (l) => l.acquire('   '), 'key'],
  ['number as key', (l) => l.acquire(42 as unknown as string), 'key'],
  ['null key', (l) => l.acquire(null as unknown as string), 'key'],
  ['empty key array', (l) => l.acquire([]), 'key'],
  ['non-string in key array', (l) => l.acquire(['a', 7 as unknown as string]), 'key[1]'],
  ['key built from undefined', (l) => l.acquire(`order:${undefined}`), 'key'],
  ['key built from an object', (l) => l.acquire(`order:${{}}`), 'key'],
  ['key of 2,000 characters', (l) => l.acquire(long), 'key'],
  ['65 keys in one lock', (l) => l.acquire(tooMany), 'key'],
  // A route param can carry these (`a%7D%0Alock%3A%7Bb`); a newline once let one key pose as a pair.
  ['key with a newline', (l) => l.acquire('a}\nlock:{b'), 'key'],
  ['key with a NUL', (l) => l.acquire('order\u00001'), 'key'],
  ['key with a C1 control character', (l) => l.acquire('order\u00851'), 'key'],
  ['key with a lone surrogate', (l) => l.acquire('order:\ud800'), 'key'],
  ['hash-tagged key naming a fence counter', (l) => l.acquire('{order:1}:fence'), 'key'],
  // Both name the Redis key `lock:{x}`: one lock would take it once, and its release answer false.
  ['two keys naming one Redis key', (l) => l.acquire(['x', '{x}']), 'key[1]'],
  ['isLocked with two keys naming one Redis key', (l) => l.isLocked(['{a}', 'b', 'a']), 'key[2]'],
  ['ttl 0', (l) => l.acquire('k', { ttl: 0 }), 'options.ttl'],
  ['negative ttl', (l) => l.acquire('k', { ttl: -5 }), 'options.ttl'],
  ['fractional ttl', (l) => l.acquire('k', { ttl: 1.5 }), 'options.ttl'],
  ['ttl past setTimeout range', (l) => l.acquire('k', { ttl: 2 ** 31 }), 'options.ttl'],
  ['ttl as a string', (l) => l.acquire('k', { ttl: '1000' as unknown as number }), 'options.ttl'],
  ['negative wait', (l) => l.acquire('k', { wait: -1 }), 'options.wait'],
  ['NaN wait', (l) => l.acquire('k', { wait: Number.NaN }), 'options.wait'],
  ['negative minHold', (l) => l.acquire('k', { minHold: -1 }), 'options.minHold'],
  ['minHold above maxHold', (l) => l.acquire('k', { ttl: 100, maxHold: 200, minHold: 300 }), 'options.minHold'],
  ['maxHold below the ttl', (l) => l.acquire('k', { ttl: 1_000, maxHold: 500 }), 'options.maxHold'],
  ['autoRenew as a string', (l) => l.acquire('k', { autoRenew: 'yes' as unknown as boolean }), 'options.autoRenew'],
  ['signal that is not an AbortSignal', (l) => l.acquire('k', { signal: {} as AbortSignal }), 'options.signal'],
  ['misspelt option', (l) => l.acquire('k', { tll: 1_000 } as object), 'options.tll'],
  ['onBusy outside a decorator', (l) => l.acquire('k', { onBusy: 'skip' } as object), 'options.onBusy'],
  ['options as a number', (l) => l.acquire('k', 5 as unknown as object), 'options'],
  ['limit 0', (l) => l.acquire('k', { limit: 0 }), 'options.limit'],
  ['negative limit', (l) => l.acquire('k', { limit: -2 }), 'options.limit'],
  ['fractional limit', (l) => l.acquire('k', { limit: 2.5 }), 'options.limit'],
  ['limit as a string', (l) => l.acquire('k', { limit: '3' as unknown as number }), 'options.limit'],
  ['NaN limit', (l) => l.tryAcquire('k', { limit: Number.NaN }), 'options.limit'],
  ['unknown mode', (l) => l.acquire('k', { mode: 'exclusive' as 'read' }), 'options.mode'],
  ['limit with mode read', (l) => l.withLock('k', () => undefined, { limit: 3, mode: 'read' }), 'options.limit'],
  ['limit on several keys', (l) => l.acquire(['a', 'b'], { limit: 3 }), 'options.limit'],
  ['read lock on several keys', (l) => l.acquire(['a', 'b'], { mode: 'read' }), 'options.mode'],
  ['tryAcquire with a bad ttl', (l) => l.tryAcquire('k', { ttl: 5 }), 'options.ttl'],
  ['withLock without a function', (l) => l.withLock('k', 'work' as unknown as () => void), 'fn'],
  ['withLock with a bad key', (l) => l.withLock('', () => undefined), 'key'],
  ['isLocked with a bad key', (l) => l.isLocked(['ok', '']), 'key[1]'],
  ['inspect with an empty key', (l) => l.inspect(''), 'key'],
  ['forceRelease with a number as key', (l) => l.forceRelease(7 as unknown as string), 'key'],
  ['forceRelease with a key built from undefined', (l) => l.forceRelease(`job:${undefined}`), 'key'],
  ['campaign with an empty name', (l) => l.campaign(''), 'name'],
  ['campaign with a name array', (l) => l.campaign(['a'] as unknown as string), 'name'],
  ['campaign with a bad ttl', (l) => l.campaign('role', { ttl: 1 }), 'options.ttl'],
  ['campaign with an unknown option', (l) => l.campaign('role', { wait: 0 } as object), 'options.wait'],
  ['key function that throws', (_l, o) => o.keyFunctionThrows('1'), 'key'],
  ['key function fed undefined', (_l, o) => o.keyFromUndefined(undefined), 'key (returned by the key function)'],
  ['key function returning a number', (_l, o) => o.keyFunctionReturnsNumber(), 'key (returned by the key function)'],
  ['key function returning a Promise', (_l, o) => o.keyFunctionReturnsPromise(), 'key'],
  ['key function returning no keys', (_l, o) => o.keyFunctionReturnsNoKeys(), 'key (returned by the key function)'],
  ['template over a missing property', (_l, o) => o.templateFromMissingProperty({}), 'key'],
];

/** Decorator arguments that can never work fail when the class is defined. */
const decoratorRows: [string, () => unknown, string][] = [
  ['decorator ttl below 10 ms', () => WithLock('k', 5), '@WithLock.ttl'],
  ['@LeaderOnly with a blank name', () => LeaderOnly('  '), '@LeaderOnly name'],
  ['@LeaderOnly with a bad ttl', () => LeaderOnly('role', { ttl: 0 }), '@LeaderOnly options.ttl'],
  ['decorator onBusy unknown', () => WithLock('k', { onBusy: 'retry' as 'skip' }), '@WithLock options.onBusy'],
  [
    'decorator minHold as a string',
    () => WithLock('k', { minHold: '1s' as unknown as number }),
    '@WithLock options.minHold',
  ],
  [
    'decorator signal option',
    () => WithLock('k', { signal: new AbortController().signal } as object),
    '@WithLock options.signal',
  ],
  ['decorator empty key', () => WithLock(''), 'key'],
  ['decorator limit 0', () => WithLock('k', { limit: 0 }), '@WithLock options.limit'],
  ['decorator unknown mode', () => WithLock('k', { mode: 'shared' as 'read' }), '@WithLock options.mode'],
];

describe('bad input: a clear LockArgumentError, and nothing sent to Redis', () => {
  let server: RedisServer;
  let module: TestingModule;
  let locks: LockService;
  let orders: Orders;

  beforeAll(async () => {
    server = await RedisServer.start();
    module = await Test.createTestingModule({
      imports: [RedisLockModule.forRoot({ redis: server.url })],
      providers: [Orders],
    }).compile();
    await module.init();
    locks = module.get(LockService);
    orders = module.get(Orders);
    await locks.isLocked('warm-up'); // the connection is up before recording starts
  });

  afterAll(async () => {
    await module?.close();
    await server?.stop();
  });

  it(`rejects all ${rows.length + decoratorRows.length} and sends Redis no command`, async () => {
    expect(rows.length + decoratorRows.length).toBeGreaterThanOrEqual(20);
    const recorder = await recordCommands(server);
    const outcomes: [string, unknown][] = [];
    for (const [name, call] of rows) {
      outcomes.push([
        name,
        await Promise.resolve()
          .then(() => call(locks, orders))
          .then(
            () => 'no error',
            (e) => e,
          ),
      ]);
    }
    for (const [name, define] of decoratorRows) {
      try {
        define();
        outcomes.push([name, 'no error']);
      } catch (error) {
        outcomes.push([name, error]);
      }
    }
    expect(await recorder.stop()).toEqual([]);
    expect(await server.client().dbsize()).toBe(0);

    const expected = [...rows, ...decoratorRows].map(([name, , argument]) => [name, argument]);
    const seen = outcomes.map(([name, error]) => [name, error instanceof LockArgumentError ? error.argument : error]);
    expect(seen).toEqual(expected);
    for (const [, error] of outcomes) expect((error as Error).message).toMatch(/^Invalid /);
  });
});
