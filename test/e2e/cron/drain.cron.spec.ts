import { Injectable } from '@nestjs/common';
import { Cron, ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LockLostError, LockService, RedisLockModule, type RedisLockModuleOptions, WithLock } from '../../../lib';
import { RedisServer } from '../../support/redis-server';
import { sleep, waitFor } from '../../support/wait-for';

/**
 * Deploys drain instead of abort, for a scheduled job: an @Cron method under @WithLock that is
 * running when `app.close()` is called keeps its lock until it ends (within `shutdownGrace`), and
 * close() waits for it. Both jobs tick every second; only their first run does the work (later
 * ticks return at once; @nestjs/schedule stops its cron jobs in beforeApplicationShutdown).
 */

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function workFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

const finishing: { started?: number; ended?: number; signalAborted?: boolean } = {};
const outliving: { started?: number; abortedAt?: number; error?: unknown } = {};

@Injectable()
class CacheRebuildJob {
  constructor(private readonly locks: LockService) {}

  /** About 800 ms of work that never looks at its lock's signal. */
  @Cron('* * * * * *', { name: 'drain-cron-finishes' })
  @WithLock('drain-cron:finishes', { wait: 0, onBusy: 'skip' })
  async rebuild(): Promise<void> {
    if (finishing.started !== undefined) return;
    finishing.started = performance.now();
    await sleep(800);
    finishing.signalAborted = this.locks.current()!.signal.aborted;
    finishing.ended = performance.now();
  }
}

@Injectable()
class LongReportJob {
  constructor(private readonly locks: LockService) {}

  /** A minute of work that stops when its lock's signal aborts. */
  @Cron('* * * * * *', { name: 'drain-cron-outlives' })
  @WithLock('drain-cron:outlives', { wait: 0, onBusy: 'skip' })
  async report(): Promise<void> {
    if (outliving.started !== undefined) return;
    outliving.started = performance.now();
    try {
      await workFor(60_000, this.locks.current()!.signal);
    } catch (error) {
      outliving.abortedAt = performance.now();
      outliving.error = error;
    }
  }
}

describe('drain on shutdown: a running @Cron job under @WithLock', () => {
  let server: RedisServer;
  let app: TestingModule | undefined;

  const start = async (job: typeof CacheRebuildJob | typeof LongReportJob, options: RedisLockModuleOptions) => {
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRoot(options), ScheduleModule.forRoot()],
      providers: [job],
    }).compile();
    app = await module.init();
    return app;
  };

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('keeps its lock while it finishes after close() began; close() waits for it; the lock is gone after', async () => {
    const started = await start(CacheRebuildJob, { redis: server.url });
    await waitFor(() => finishing.started !== undefined, 5_000);
    const closeStarted = performance.now();
    const closed = started.close().then(() => performance.now());

    // Shutting down, the job still runs and its lock is still in Redis.
    await sleep(200);
    expect(finishing.ended).toBeUndefined();
    expect(await server.client().exists('lock:{drain-cron:finishes}')).toBe(1);

    const closedAt = await closed;
    app = undefined;
    expect(finishing.ended).toBeDefined();
    expect(finishing.signalAborted).toBe(false);
    expect(closedAt).toBeGreaterThanOrEqual(finishing.ended!);
    // Within the default grace period (10 s).
    expect(closedAt - closeStarted).toBeLessThan(10_000);
    expect(await server.client().exists('lock:{drain-cron:finishes}')).toBe(0);
  }, 30_000);

  it("past shutdownGrace (200 ms) the job's signal aborts with reason 'shutdown', and close() resolves", async () => {
    const started = await start(LongReportJob, { redis: server.url, shutdownGrace: 200 });
    await waitFor(() => outliving.started !== undefined, 5_000);
    const closeStarted = performance.now();
    const closed = started.close().then(() => performance.now());

    // Within the grace period the lock is still held.
    await sleep(50);
    expect(outliving.error).toBeUndefined();
    expect(await server.client().exists('lock:{drain-cron:outlives}')).toBe(1);

    const closedAt = await closed;
    app = undefined;
    expect(outliving.error).toBeInstanceOf(LockLostError);
    expect((outliving.error as LockLostError).reason).toBe('shutdown');
    // Aborted at the end of the grace period, not when shutdown began (bounds generous).
    expect(outliving.abortedAt! - closeStarted).toBeGreaterThanOrEqual(150);
    expect(closedAt - closeStarted).toBeLessThan(5_000);
    expect(await server.client().exists('lock:{drain-cron:outlives}')).toBe(0);
  }, 30_000);
});
