import { Controller, type INestApplication, Injectable, Param, Post } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurrentLock, type Lock, LockService, WithLock, runOutsideLockScope } from '../../lib';
import { recordCommands } from '../support/command-recorder';
import { startHttpApp } from '../support/http-app';
import { STORES, type StoreRun, lockModule, startLockPair } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

@Injectable()
class Ledger {
  constructor(readonly locks: LockService) {}

  /** Calls another method under the same key: must re-enter, not wait on itself (wait: 0). */
  @WithLock('ledger:{0}', { wait: 0 })
  async post(account: string): Promise<{ outer: number; inner: number; reentered: boolean }> {
    const outer = this.locks.current()!;
    const inner = await this.balance(account);
    return { outer: outer.fence, inner: inner.fence, reentered: inner.reentered };
  }

  @WithLock('ledger:{0}', { wait: 0 })
  async balance(_account: string): Promise<Lock> {
    return this.locks.current()!;
  }

  /** Holds one key, then asks for it together with another. */
  @WithLock('transfer:{0}', { wait: 0 })
  async transfer(from: string, to: string): Promise<string[]> {
    return this.both(from, to);
  }

  @WithLock((from: string, to: string) => [`transfer:${from}`, `transfer:${to}`], { wait: 0 })
  async both(_from: string, _to: string): Promise<string[]> {
    return [...this.locks.current(`transfer:${_to}`)!.keys];
  }
}

@Controller('orders')
class OrdersController {
  constructor(private readonly ledger: Ledger) {}

  @Post(':id/pay')
  @WithLock('order:{id}', { wait: 0 })
  async pay(@Param('id') id: string, @CurrentLock() lock: Lock, @CurrentLock('order:none') none: Lock | undefined) {
    const nested = await this.ledger.post(`acct-${id}`);
    return { key: lock.key, fence: lock.fence, held: lock.held, none: none ?? null, nested };
  }
}

describe.each(STORES)('reentrancy and current() ($name store)', (store) => {
  let run: StoreRun;
  let locks: LockService;
  let other: LockService; // another "process" on the same store
  let close: () => Promise<void>;
  let n = 0;
  const key = () => `re:${store.name}:${++n}`;

  beforeAll(async () => {
    ({ run, locks, other, close } = await startLockPair(store, { ttl: 2_000, wait: 0 }));
  });
  afterAll(() => close?.());

  it('withLock inside withLock on the same key re-enters at once; the lease is released with its last handle', async () => {
    const k = key();
    await locks.withLock(k, async (outer) => {
      expect(outer.reentered).toBe(false);
      const recorder = run.server ? await recordCommands(run.server) : undefined;
      const inner = await locks.withLock(k, async (lock) => {
        expect(lock.reentered).toBe(true);
        expect(lock.fence).toBe(outer.fence);
        expect(lock.token).toBe(outer.token);
        expect(locks.current()).toBe(lock);
        return lock;
      });
      if (recorder) expect(await recorder.stop()).toEqual([]); // no round trip to re-enter or leave
      expect(inner.held).toBe(false);
      expect(outer.held).toBe(true);
      expect(await other.isLocked(k)).toBe(true);
      expect(locks.current()).toBe(outer);
    });
    expect(await other.isLocked(k)).toBe(false);
  });

  it('an unrelated caller for the same key still waits, and gets the lock once the outermost release ran', async () => {
    const k = key();
    const order: string[] = [];
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const holding = locks.withLock(k, async () => {
      entered();
      await locks.withLock(k, async () => {
        await sleep(50);
        order.push('inner done');
      });
      await sleep(50);
      order.push('outer done');
    });
    await inside;
    // Called from the test's own context, outside the holder's call chain: not a re-entry.
    const lock = await other.acquire(k, { wait: 5_000 });
    order.push('outside acquired');
    await holding;
    expect(lock.reentered).toBe(false);
    expect(order).toEqual(['inner done', 'outer done', 'outside acquired']);
    await lock.release();
  });

  it('acquire() in the chain re-enters too; releasing its handle twice never releases the outer lock', async () => {
    const k = key();
    await locks.withLock(k, async (outer) => {
      const inner = await locks.acquire(k);
      const tried = await locks.tryAcquire(k);
      expect(inner.reentered && tried!.reentered).toBe(true);
      expect(await inner.release()).toBe(true);
      expect(await inner.release()).toBe(true);
      await tried!.release();
      expect(outer.held).toBe(true);
      expect(await other.isLocked(k)).toBe(true);
    });
  });

  it('a chain holding some keys takes only the others, and never waits on itself', async () => {
    const [a, b] = [key(), key()];
    await locks.withLock(a, async (outer) => {
      const both = await locks.acquire([a, b]);
      expect(both.reentered).toBe(false);
      expect(both.keys).toEqual([a, b]); // it covers both: it took b and keeps a's lease held
      expect(await other.isLocked(b)).toBe(true);
      expect(locks.current(a)).toBe(outer);
      await both.release();
      expect(await other.isLocked(b)).toBe(false);
      expect(await other.isLocked(a)).toBe(true);
    });
  });

  it('an inner call the outer one did not await keeps the lock held and renewed after the outer returns', async () => {
    const k = key();
    let finishInner!: () => void;
    const innerWork = new Promise<void>((resolve) => (finishInner = resolve));
    let innerLock: Lock | undefined;
    let inner!: Promise<void>;
    await locks.withLock(
      k,
      async () => {
        inner = locks.withLock(k, async (lock) => {
          innerLock = lock;
          await innerWork;
        });
        await new Promise((resolve) => setImmediate(resolve));
      },
      { ttl: 1_000 },
    );
    expect(innerLock!.reentered).toBe(true);
    await sleep(2_200); // more than two leases: only renewal keeps it
    expect(innerLock!.held).toBe(true);
    expect(innerLock!.signal.aborted).toBe(false);
    expect(await other.tryAcquire(k)).toBeNull();
    finishInner();
    await inner;
    expect(await other.isLocked(k)).toBe(false);
  });

  it('keys the chain holds under two leases: an unawaited inner call over both keeps both held', async () => {
    const [a, b] = [key(), key()];
    let inner!: Promise<void>;
    let innerLock!: Lock;
    let stolen: Lock | null = null;
    await locks.withLock(a, async () => {
      await locks.withLock(b, async () => {
        inner = locks.withLock([a, b], async (lock) => {
          innerLock = lock;
          await sleep(400);
          // The outer calls have returned by now; asked from outside the chain, b must be busy.
          stolen = await runOutsideLockScope(() => other.tryAcquire(b));
        });
        await sleep(20);
      });
    });
    await inner;
    expect(innerLock.reentered).toBe(true);
    expect(innerLock.keys).toEqual([a, b]);
    expect(stolen).toBeNull();
    expect(await other.isLocked([a, b])).toBe(false);
  });

  it('a timer first armed inside a lock runs its callbacks in its scope; runOutsideLockScope arms it outside', async () => {
    const k = key();
    let finish!: () => void;
    const holding = new Promise<void>((resolve) => (finish = resolve));
    let armed!: (timers: { pitfall: Promise<Lock | null>; remedy: Promise<Lock | null> }) => void;
    const timers = new Promise<{ pitfall: Promise<Lock | null>; remedy: Promise<Lock | null> }>(
      (resolve) => (armed = resolve),
    );
    // A lazily started flusher would later run unrelated callers' work in these callbacks.
    const holder = locks.withLock(k, async () => {
      armed({
        pitfall: new Promise((resolve) => setTimeout(() => resolve(locks.tryAcquire(k)), 20)),
        remedy: runOutsideLockScope(() => new Promise((resolve) => setTimeout(() => resolve(locks.tryAcquire(k)), 20))),
      });
      await holding;
    });
    const { pitfall, remedy } = await timers;
    const inherited = await pitfall;
    expect(inherited?.reentered).toBe(true); // the pitfall: it re-entered a lock another chain holds
    await inherited!.release();
    expect(await remedy).toBeNull(); // outside every scope: the lock is busy, as for anyone else
    finish();
    await holder;
  });

  it('the library arms its own timers outside lock scopes: a loss is reported outside the chain that took the lock', async () => {
    const seen: (Lock | undefined)[] = [];
    const { module, locks: own } = await lockModule({
      ...run.options,
      onLockLost: () => seen.push(own.current()),
    });
    try {
      await own.withLock(key(), async () => {
        const inner = await own.acquire(key(), { ttl: 50, maxHold: 100 });
        await waitFor(() => inner.signal.aborted, 2_000);
        await inner.release();
      });
      expect(seen).toEqual([undefined]);
    } finally {
      await module.close();
    }
  });

  it('current() is undefined outside a lock, for other keys, and in callbacks that outlive the lock', async () => {
    const k = key();
    expect(locks.current()).toBeUndefined();
    let later: Promise<{ current: Lock | undefined; fresh: Lock }> | undefined;
    await locks.withLock(k, async () => {
      expect(locks.current('something-else')).toBeUndefined();
      later = new Promise((resolve) =>
        setTimeout(async () => resolve({ current: locks.current(), fresh: await locks.acquire(k) }), 50),
      );
    });
    const { current, fresh } = await later!;
    // The callback inherited the lock's context, but the lock was released: no re-entry.
    expect(current).toBeUndefined();
    expect(fresh.reentered).toBe(false);
    await fresh.release();
  });
});

describe.each(STORES)('@CurrentLock and nested @WithLock over HTTP ($name store)', (store) => {
  let run: StoreRun;
  let app: INestApplication;
  let url: string;
  let locks: LockService;

  beforeAll(async () => {
    run = await store.start();
    ({ app, url, locks } = await startHttpApp(
      'express',
      { ...run.options, wait: 0 },
      {
        controllers: [OrdersController],
        providers: [Ledger],
      },
    ));
  });

  afterAll(async () => {
    await app?.close();
    await run?.stop();
  });

  it('injects the route lock; a provider method under the same key re-enters from the route', async () => {
    const response = await fetch(`${url}/orders/7/pay`, { method: 'POST' });
    expect(response.status).toBe(201);
    const body = (await response.json()) as {
      key: string;
      fence: number;
      held: boolean;
      none: null;
      nested: { outer: number; inner: number; reentered: boolean };
    };
    expect(body).toMatchObject({ key: 'order:7', held: true, none: null });
    expect(body.fence).toBeGreaterThan(0);
    expect(body.nested.reentered).toBe(true);
    expect(body.nested.inner).toBe(body.nested.outer);
    expect(await locks.isLocked(['order:7', 'ledger:acct-7'])).toBe(false);
  });

  it('a @WithLock method calling another under the same key re-enters instead of failing busy (wait: 0)', async () => {
    const result = await app.get(Ledger).post('direct');
    expect(result.reentered).toBe(true);
    expect(result.inner).toBe(result.outer);
    expect(await locks.isLocked('ledger:direct')).toBe(false);
  });

  it('a method holding one key calls one that needs it and another: it takes only the other, covering both', async () => {
    const ledger = app.get(Ledger);
    expect(await ledger.transfer('x', 'y')).toEqual(['transfer:x', 'transfer:y']);
    expect(await locks.isLocked(['transfer:x', 'transfer:y'])).toBe(false);
  });
});
