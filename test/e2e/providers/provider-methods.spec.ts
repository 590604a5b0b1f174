import type { INestApplicationContext } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  LockError,
  LockNotAcquiredError,
  LockService,
  RedisLockModule,
  type RedisLockModuleOptions,
} from '../../../lib';
import { BillingService, JOB_NAME, calls, resetCalls } from '../../support/provider-fixture';
import { RedisServer } from '../../support/redis-server';
import { STORES, type StoreRun } from '../../support/stores';
import { sleep, waitFor } from '../../support/wait-for';

async function startContext(options: RedisLockModuleOptions): Promise<INestApplicationContext> {
  const module = await Test.createTestingModule({
    imports: [RedisLockModule.forRoot(options), ScheduleModule.forRoot()],
    providers: [BillingService],
  }).compile();
  await module.init();
  return module;
}

describe.each(STORES)('@WithLock on provider methods ($name store)', (store) => {
  let run: StoreRun;
  let app: INestApplicationContext;
  let billing: BillingService;
  let locks: LockService;

  beforeAll(async () => {
    run = await store.start();
    app = await startContext(run.options);
    billing = app.get(BillingService);
    locks = app.get(LockService);
  });

  afterAll(async () => {
    await app?.close();
    await run?.stop();
  });

  beforeEach(() => resetCalls());

  it('locks async methods keyed by their own typed arguments; the count is exact', async () => {
    const results = await Promise.all(Array.from({ length: 16 }, () => billing.charge('inv-1', 1)));
    expect(results).toEqual(Array(16).fill('inv-1:1'));
    expect(calls.probe.count).toBe(16);
    expect(calls.probe.overlaps).toBe(0);
    expect(await locks.isLocked('invoice:inv-1')).toBe(false);
  });

  it('holds the lock for the whole call and fails fast when busy (wait: 0)', async () => {
    let finish!: () => void;
    const running = billing.hold({ id: 'inv-2' }, new Promise<void>((resolve) => (finish = resolve)));
    await waitFor(() => calls.log.includes('hold:inv-2'));
    expect(await locks.isLocked('invoice:inv-2')).toBe(true);
    await expect(billing.hold({ id: 'inv-2' }, Promise.resolve())).rejects.toBeInstanceOf(LockNotAcquiredError);
    finish();
    await running;
    expect(await locks.isLocked('invoice:inv-2')).toBe(false);
  });

  it('wraps synchronous methods (they return a Promise) and keeps name and arity', async () => {
    await expect(billing.total(2, 3)).resolves.toBe(5);
    expect(BillingService.prototype.total.name).toBe('total');
    expect(BillingService.prototype.total.length).toBe(2);
  });

  it('releases when the method throws, and the error passes through', async () => {
    await expect(billing.fail()).rejects.toThrow('payment declined');
    expect(await locks.isLocked('fails')).toBe(false);
  });

  it('holds the lock while an Observable-returning method is subscribed', async () => {
    const feed = billing.feed('a');
    expect(calls.log).toEqual([]); // cold: nothing runs before subscription
    const values = lastValueFrom(feed.pipe(toArray()));
    await waitFor(() => calls.log.includes('feed:a'));
    expect(await locks.isLocked('feed:a')).toBe(true);
    expect(await values).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
    await waitFor(async () => !(await locks.isLocked('feed:a')), 2_000);
  });

  it('releases when an Observable-returning method is unsubscribed early', async () => {
    const subscription = billing.feed('b').subscribe();
    await waitFor(async () => await locks.isLocked('feed:b'));
    subscription.unsubscribe();
    await waitFor(async () => !(await locks.isLocked('feed:b')), 2_000);
  });

  it('refuses an Observable from a method not declared to return one, instead of releasing under it', async () => {
    const error = await (billing.undeclared() as unknown as Promise<unknown>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockError);
    expect((error as Error).message).toContain('BillingService.undeclared');
    expect(await locks.isLocked('undeclared')).toBe(false);
  });

  it('works under @Cron, with other metadata intact: overlapping ticks run once', async () => {
    const registry = app.get(SchedulerRegistry);
    const job = registry.getCronJob(JOB_NAME);
    expect(job).toBeDefined();
    expect(Reflect.getMetadata('audited', BillingService.prototype.nightlyReport)).toBe(true);
    // Two replicas' ticks at once: the second finds the lock busy (wait: 0) and does not run.
    const first = billing.nightlyReport();
    await waitFor(() => calls.log.includes('report:start'));
    await expect(billing.nightlyReport()).rejects.toBeInstanceOf(LockNotAcquiredError);
    await first;
    // The scheduler calls the wrapped method too.
    void job.fireOnTick();
    await waitFor(() => calls.log.filter((entry) => entry === 'report:end').length === 2, 3_000);
    expect(calls.log).toEqual(['report:start', 'report:end', 'report:start', 'report:end']);
  });
});

describe('two Nest applications in one process on one Redis', () => {
  let server: RedisServer;
  let apps: INestApplicationContext[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    apps = [await startContext({ redis: server.url }), await startContext({ redis: server.url })];
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await server?.stop();
  });

  it('exclude each other, each through its own LockService', async () => {
    resetCalls();
    const [a, b] = apps.map((app) => app.get(BillingService));
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a! : b!).charge('shared', 1)));
    expect(calls.probe.count).toBe(20);
    expect(calls.probe.overlaps).toBe(0);
  });

  it("a closed application's methods do not fall back to the other's LockService", async () => {
    const extra = await startContext({ redis: server.url });
    const billing = extra.get(BillingService);
    await extra.close();
    await expect(billing.total(1, 1)).rejects.toBeInstanceOf(LockError);
    await sleep(10);
  });
});
