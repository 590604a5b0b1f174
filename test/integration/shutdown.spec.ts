import { Controller, Injectable, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurrentLock, type Lock, LockLostError, LockService, RedisLockModule, WithLock } from '../../lib';
import { ADAPTERS, startHttpApp } from '../support/http-app';
import { RedisServer } from '../support/redis-server';
import { waitFor } from '../support/wait-for';

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function workFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

const started: string[] = [];

@Injectable()
class ReportJob {
  constructor(private readonly locks: LockService) {}

  @WithLock('report-job', { wait: 0 })
  async run(): Promise<void> {
    started.push('job');
    await workFor(60_000, this.locks.current()!.signal);
  }
}

@Controller('exports')
class ExportsController {
  @Post()
  @WithLock('export', { wait: 0 })
  async export(@CurrentLock() lock: Lock): Promise<string> {
    started.push('export');
    await workFor(60_000, lock.signal);
    return 'done';
  }
}

/** Bound on app.close() with work still running: far below the work's 60 s. */
const CLOSE_BOUND = 5_000;

describe('graceful shutdown with decorated work still running', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('with shutdownGrace 0, app.close() releases the lock of a running provider method at once and its work learns why', async () => {
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRoot({ redis: server.url, shutdownGrace: 0 })],
      providers: [ReportJob],
    }).compile();
    const app = await module.init();
    const running = app
      .get(ReportJob)
      .run()
      .catch((error: unknown) => error);
    await waitFor(() => started.includes('job'));
    const closing = Date.now();
    await app.close();
    expect(Date.now() - closing).toBeLessThan(CLOSE_BOUND);
    expect(await server.client().exists('lock:{report-job}')).toBe(0);
    const outcome = await running;
    expect(outcome).toBeInstanceOf(LockLostError);
    expect((outcome as LockLostError).reason).toBe('shutdown');
  });

  it.each(ADAPTERS)(
    '%s: with shutdownGrace 0, app.close() with a request in flight does not hang; the route lock is released',
    async (adapter) => {
      const { app, url } = await startHttpApp(
        adapter,
        { redis: server.url, shutdownGrace: 0 },
        { controllers: [ExportsController] },
      );
      const request = fetch(`${url}/exports`, { method: 'POST' }).then(
        (response) => response.status,
        () => 'connection closed',
      );
      await waitFor(() => started.filter((name) => name === 'export').length === ADAPTERS.indexOf(adapter) + 1);
      const closing = Date.now();
      await app.close();
      expect(Date.now() - closing).toBeLessThan(CLOSE_BOUND);
      expect(await server.client().exists('lock:{export}')).toBe(0);
      // The handler stopped on the aborted signal, so the request ended instead of holding the server open.
      expect(await request).toBeDefined();
    },
  );
});
