import { Controller, type INestApplication, Injectable, Logger, Post } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { Observable, interval, lastValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LockArgumentError, LockLostError, type LockLostEvent, LockService, WithLock } from '../../lib';
import { startHttpApp } from '../support/http-app';
import { RedisServer } from '../support/redis-server';
import { STORES, type StoreRun, lockModule } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

const runs = { nightly: 0, feed: 0, rebuild: 0 };

/** The documented recipe for a job that many replicas trigger at the same tick. */
@Injectable()
class Jobs {
  @WithLock('nightly', { wait: 0, onBusy: 'skip', minHold: 600 })
  async nightly(): Promise<string> {
    runs.nightly++;
    await sleep(50);
    return 'ran';
  }

  @WithLock('feed-skip', { wait: 0, onBusy: 'skip' })
  feed(): Observable<number> {
    runs.feed++;
    return interval(30).pipe(take(3));
  }
}

let finishRebuild: () => void = () => undefined;

@Controller('cache')
class CacheController {
  @Post('rebuild')
  @WithLock('rebuild', { wait: 0, onBusy: 'skip' })
  async rebuild(): Promise<{ rebuilt: true }> {
    runs.rebuild++;
    await new Promise<void>((resolve) => (finishRebuild = resolve));
    return { rebuilt: true };
  }
}

describe.each(STORES)('minHold, maxHold, onBusy and onLockLost ($name store)', (store) => {
  let run: StoreRun;
  let app: INestApplication;
  let url: string;
  let locks: LockService;
  let replica: { app: INestApplication; jobs: Jobs } | undefined; // a second replica on the same Redis
  const lost: LockLostEvent[] = [];
  let n = 0;
  const key = () => `hold:${store.name}:${++n}`;

  beforeAll(async () => {
    run = await store.start();
    const options = { ...run.options, wait: 0, onLockLost: (event: LockLostEvent) => void lost.push(event) };
    const metadata = { controllers: [CacheController], providers: [Jobs] };
    ({ app, url, locks } = await startHttpApp('express', options, metadata));
    if (store.name !== 'memory') {
      const second = await startHttpApp('express', options, metadata);
      replica = { app: second.app, jobs: second.app.get(Jobs) };
    }
  });

  afterAll(async () => {
    await replica?.app.close();
    await app?.close();
    await run?.stop();
  });

  it('minHold keeps the lock after quick work until that long after acquisition, then lets it lapse', async () => {
    const k = key();
    const started = performance.now();
    expect(await locks.withLock(k, () => 'done', { minHold: 400 })).toBe('done');
    expect(await locks.isLocked(k)).toBe(true);
    if (run.server) {
      const left = await run.server.client().pttl(`lock:{${k}}`);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(400);
    }
    await waitFor(async () => !(await locks.isLocked(k)), 3_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('minHold does not prolong work that ran longer: the release deletes at once', async () => {
    const k = key();
    await locks.withLock(k, () => sleep(120), { minHold: 50 });
    expect(await locks.isLocked(k)).toBe(false);
  });

  it("onBusy 'skip' + minHold: replicas triggered at the same tick run the job once; a late trigger is skipped too", async () => {
    runs.nightly = 0;
    const debug = vi.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    try {
      const jobs = app.get(Jobs);
      const results = await Promise.all([jobs.nightly(), (replica?.jobs ?? jobs).nightly()]);
      expect(results.sort()).toEqual(['ran', undefined]);
      expect(runs.nightly).toBe(1);
      // The work took 50 ms; within minHold another replica's trigger of this tick still skips.
      expect(await (replica?.jobs ?? jobs).nightly()).toBeUndefined();
      expect(runs.nightly).toBe(1);
      expect(debug).toHaveBeenCalledWith(expect.stringContaining('Skipped Jobs.nightly: lock "nightly" is held'));
      await waitFor(async () => !(await locks.isLocked('nightly')), 3_000);
      expect(await jobs.nightly()).toBe('ran');
      expect(runs.nightly).toBe(2);
    } finally {
      debug.mockRestore();
    }
  });

  it("onBusy 'skip' on an Observable method completes empty without subscribing to the work", async () => {
    runs.feed = 0;
    const jobs = app.get(Jobs);
    const [first, second] = await Promise.all([
      lastValueFrom(jobs.feed().pipe(toArray())),
      sleep(20).then(() => lastValueFrom(jobs.feed().pipe(toArray()))),
    ]);
    expect(first).toEqual([0, 1, 2]);
    expect(second).toEqual([]);
    expect(runs.feed).toBe(1);
  });

  it("onBusy 'skip' on a route answers 204 No Content instead of running the handler", async () => {
    runs.rebuild = 0;
    const first = fetch(`${url}/cache/rebuild`, { method: 'POST' });
    await waitFor(() => runs.rebuild === 1);
    const skipped = await fetch(`${url}/cache/rebuild`, { method: 'POST' });
    expect(skipped.status).toBe(204);
    expect(await skipped.text()).toBe('');
    finishRebuild();
    expect(await (await first).json()).toEqual({ rebuilt: true });
    expect(runs.rebuild).toBe(1);
  });

  it('maxHold stops renewal: the lock is lost (reason max-hold) and the onLockLost hook hears of it', async () => {
    const k = key();
    const lock = await locks.acquire(k, { ttl: 150, maxHold: 400 });
    const reason = await new Promise<unknown>((resolve) =>
      lock.signal.addEventListener('abort', () => resolve(lock.signal.reason), { once: true }),
    );
    expect(reason).toBeInstanceOf(LockLostError);
    expect((reason as LockLostError).reason).toBe('max-hold');
    expect(lock.held).toBe(false);
    expect(lost).toContainEqual(expect.objectContaining({ key: k, keys: [k], reason: 'max-hold', fence: lock.fence }));
    // Renewal never went past maxHold, so the lease ends around then and the key is free again.
    await waitFor(async () => !(await locks.isLocked(k)), 2_000);
  });

  it('work that passed the signal on (fetch) stops when the lock is lost', async () => {
    const k = key();
    const { createServer } = await import('node:http');
    const silent = createServer(() => undefined); // accepts and never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const outcome = await locks
        .withLock(k, (lock) => fetch(`http://127.0.0.1:${port}/`, { signal: lock.signal }), { ttl: 100, maxHold: 200 })
        .then(
          () => 'answered',
          (error: unknown) => error,
        );
      expect(outcome).toBeInstanceOf(LockLostError);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('rejects maxHold below the ttl and minHold above maxHold before anything reaches the store', async () => {
    await expect(locks.acquire(key(), { ttl: 1_000, maxHold: 500 })).rejects.toThrow(LockArgumentError);
    await expect(locks.acquire(key(), { ttl: 100, maxHold: 500, minHold: 600 })).rejects.toThrow(
      /minHold: must not exceed maxHold/,
    );
  });
});

describe('onLockLost on a real redis-server', () => {
  let server: RedisServer;
  let module: TestingModule;
  let locks: LockService;
  const lost: LockLostEvent[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    ({ module, locks } = await lockModule({
      redis: server.url,
      onLockLost: (event) => {
        lost.push(event);
        throw new Error('a broken hook');
      },
    }));
  });

  afterAll(async () => {
    await module?.close();
    await server?.stop();
  });

  it('fires with key and reason when renewal finds the lock taken; a hook that throws is logged, not fatal', async () => {
    const error = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const lock = await locks.acquire('stolen', { ttl: 300 });
      await server.client().set('lock:{stolen}', 'someone-else', 'PX', 5_000);
      await waitFor(() => lost.length > 0, 3_000);
      expect(lost[0]).toMatchObject({ key: 'stolen', reason: 'not-held', fence: lock.fence });
      expect(lost[0]!.error).toBe(lock.signal.reason);
      expect(error).toHaveBeenCalledWith(expect.stringContaining('The onLockLost hook threw for lock "stolen"'));
      // The late release of the lost lock leaves the new owner's key alone.
      expect(await lock.release()).toBe(false);
      expect(await server.client().get('lock:{stolen}')).toBe('someone-else');
    } finally {
      error.mockRestore();
    }
  });
});
