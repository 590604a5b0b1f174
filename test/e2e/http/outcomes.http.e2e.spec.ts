import { setTimeout as sleepFor } from 'node:timers/promises';
import { type ArgumentsHost, Catch, Controller, type ExceptionFilter, Injectable, Param, Post } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurrentLock, type Lock, LockExceptionFilter, LockService, WithLock } from '../../../lib';
import { validateModuleOptions } from '../../../lib/nest/options/validate-module-options';
import { CapturedLogger } from '../../support/captured-logger';
import { ADAPTERS, startHttpApp } from '../../support/http-app';
import { startLoggedApp } from '../../support/logged-app';
import { RedisServer } from '../../support/redis-server';
import { waitFor } from '../../support/wait-for';

@Injectable()
class Reservations {
  @WithLock('stock:{0}', { wait: 0 })
  async reserve(sku: string) {
    return { sku };
  }
}

@Controller()
class OutcomesController {
  constructor(
    private readonly locks: LockService,
    private readonly reservations: Reservations,
  ) {}

  // Undecorated routes: their lock errors are answered by the module's global LockExceptionFilter.
  @Post('plain/:id')
  plain(@Param('id') id: string) {
    return this.locks.withLock(`plain:${id}`, () => ({ ok: id }), { wait: 0 });
  }

  @Post('service/:sku')
  service(@Param('sku') sku: string) {
    return this.reservations.reserve(sku);
  }

  @Post('crash')
  crash() {
    throw new Error('not a lock error');
  }

  @Post('bad-key')
  badKey() {
    return this.locks.withLock('', () => 'never');
  }

  @Post('plain-lost/:id')
  plainLost(@Param('id') id: string) {
    return this.locks.withLock(`plain-lost:${id}`, (lock) => sleepFor(20_000, 'done', { signal: lock.signal }), {
      ttl: 300,
    });
  }

  // A decorated route: the interceptor answers.
  @Post('decorated/:id')
  @WithLock('decorated:{id}', { wait: 0 })
  decorated(@Param('id') id: string) {
    return { ok: id };
  }

  // A counting lock and a read lock: busy answers as a busy mutex does.
  @Post('export/:tenantId')
  @WithLock('export:{tenantId}', { limit: 3, wait: 0 })
  export(@Param('tenantId') tenantId: string) {
    return { exported: tenantId };
  }

  @Post('read/:id')
  @WithLock('doc:{id}', { mode: 'read', wait: 0 })
  read(@Param('id') id: string) {
    return { read: id };
  }

  // Ignores lock.signal: finishes its work after the lock was lost.
  @Post('ignores/:id')
  @WithLock('ignores:{id}', { ttl: 300 })
  async ignores(@CurrentLock() lock: Lock) {
    await waitFor(() => !lock.held, 10_000);
    return { done: true };
  }

  // Passes lock.signal on: a lost lock stops it with an AbortError whose cause is the LockLostError.
  @Post('lost/:id')
  @WithLock('lost:{id}', { ttl: 300 })
  lost(@CurrentLock() lock: Lock) {
    return sleepFor(20_000, 'done', { signal: lock.signal });
  }
}

describe.each(ADAPTERS)('lock outcomes over HTTP (%s, no filter registered by the app)', (adapter) => {
  let started: Awaited<ReturnType<typeof startLoggedApp>>;
  let server: RedisServer;
  let url: string;
  let locks: LockService;
  let logger: CapturedLogger;

  beforeAll(async () => {
    started = await startLoggedApp(
      adapter,
      { controllers: [OutcomesController], providers: [Reservations] },
      { storeTimeout: 500 },
    );
    ({ server, url, locks, logger } = started);
  });

  afterAll(() => started?.stop());

  const post = (path: string) => fetch(url + path, { method: 'POST' });

  it('answers 409 with the code and the key for a busy withLock and a busy locked service method, logged at debug only', async () => {
    const held = [await locks.acquire('plain:1'), await locks.acquire('stock:apple')];
    const busy = await post('/plain/1');
    expect(busy.status).toBe(409);
    expect(await busy.json()).toEqual({
      statusCode: 409,
      error: 'Conflict',
      code: 'LOCK_BUSY',
      lock: 'plain:1',
      message: expect.stringContaining('"plain:1" is held by another owner'),
    });
    const service = await post('/service/apple');
    expect(service.status).toBe(409);
    expect(await service.json()).toMatchObject({ code: 'LOCK_BUSY', lock: 'stock:apple' });
    for (const lock of held) await lock.release();
    expect((await post('/plain/1')).status).toBe(201);
    expect(logger.texts('error')).toEqual([]);
    expect(logger.texts('debug', 'LOCK_BUSY').length).toBeGreaterThanOrEqual(2);
  });

  it('answers a busy counting lock and a busy read lock with 409 LOCK_BUSY, as a busy mutex', async () => {
    const permits = await Promise.all([0, 1, 2].map(() => locks.acquire('export:t1', { limit: 3 })));
    const full = await post('/export/t1');
    expect(full.status).toBe(409);
    expect(await full.json()).toMatchObject({ code: 'LOCK_BUSY', lock: 'export:t1' });
    const writer = await locks.acquire('doc:1', { mode: 'write' });
    const reading = await post('/read/1');
    expect(reading.status).toBe(409);
    expect(await reading.json()).toMatchObject({ code: 'LOCK_BUSY', lock: 'doc:1' });
    await writer.release();
    await permits[0]!.release();
    expect((await post('/export/t1')).status).toBe(201);
    const reader = await locks.acquire('doc:1', { mode: 'read' });
    expect((await post('/read/1')).status).toBe(201);
    await reader.release();
    for (const permit of permits.slice(1)) await permit.release();
    expect(logger.texts('error')).toEqual([]);
  });

  it('answers 400 with the code and the argument for a bad key', async () => {
    const response = await post('/bad-key');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ statusCode: 400, code: 'LOCK_BAD_ARGUMENT', argument: 'key' });
  });

  it('answers 503 LOCK_LOST when a handler that passes lock.signal on is stopped by a lost lock', async () => {
    const redis = server.client();
    for (const [path, key] of [
      ['/lost/1', 'lost:1'],
      ['/plain-lost/1', 'plain-lost:1'],
    ] as const) {
      const response = post(path);
      await waitFor(() => locks.isLocked(key));
      await redis.del(`lock:{${key}}`); // the lease is gone: the next renewal finds the lock not ours
      const answer = await response;
      expect(answer.status).toBe(503);
      expect(await answer.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        code: 'LOCK_LOST',
        lock: key,
        message: `Lock "${key}" was lost before the work finished`,
      });
    }
    expect(logger.texts('error')).toEqual([]);
  });

  it('a handler that ignores lock.signal answers with its own response after its lock was lost; the loss is warned about', async () => {
    const response = post('/ignores/1');
    await waitFor(() => locks.isLocked('ignores:1'));
    await server.client().del('lock:{ignores:1}');
    const answer = await response;
    expect(answer.status).toBe(201);
    expect(await answer.json()).toEqual({ done: true });
    expect(logger.texts('warn', '"ignores:1" was lost')).toHaveLength(1);
    expect(logger.texts('error')).toEqual([]);
  });

  it('answers 503 LOCK_UNAVAILABLE while Redis is down, warning once per outage with the cause', async () => {
    const warnings = () => logger.texts('warn', 'Answering LOCK_UNAVAILABLE');
    const before = warnings().length;
    for (let outage = 1; outage <= 2; outage++) {
      server.pause();
      try {
        for (const path of ['/decorated/1', '/plain/2', '/decorated/3', '/service/pear']) {
          const response = await post(path);
          expect(response.status).toBe(503);
          expect(await response.json()).toEqual({
            statusCode: 503,
            error: 'Service Unavailable',
            code: 'LOCK_UNAVAILABLE',
            message: 'The lock service is unavailable',
          });
          // Warned at the first answer (a @WithLock route), not again for the outage's later ones.
          expect(warnings().length).toBe(before + outage);
        }
      } finally {
        server.resume();
      }
      expect(warnings().at(-1)).toContain('did not answer'); // the cause: the store's own error
      // A lock acquired through a route ends the outage: the next one is warned about again.
      await waitFor(async () => (await post('/decorated/1')).status === 201, 5_000);
    }
    expect(logger.texts('error')).toEqual([]);
  });
});

/** An app's own catch-all filter: answers 418 with its own shape for whatever reaches it. */
@Catch()
class TeapotFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { mine: String(exception) }, 418);
  }
}

describe.each(ADAPTERS)("the default lock-error answers beside the app's own filters (%s)", (adapter) => {
  const start = (providers: unknown[], options = {}) =>
    startLoggedApp(
      adapter,
      { controllers: [OutcomesController], providers: [Reservations, ...(providers as [])] },
      { store: 'memory', ...options },
    );

  it("answers lock errors once, before the app's own catch-all filter, which still gets every other error", async () => {
    // The app also registers LockExceptionFilter itself, as the README used to say: no double answer.
    const app = await start([
      { provide: APP_FILTER, useClass: TeapotFilter },
      { provide: APP_FILTER, useClass: LockExceptionFilter },
    ]);
    try {
      const held = await app.locks.acquire('plain:1');
      const busy = await fetch(`${app.url}/plain/1`, { method: 'POST' });
      expect(busy.status).toBe(409);
      expect(await busy.json()).toMatchObject({ code: 'LOCK_BUSY', lock: 'plain:1' });
      await held.release();
      expect(app.logger.texts('debug', 'Answering LOCK_BUSY')).toHaveLength(1);
      const crash = await fetch(`${app.url}/crash`, { method: 'POST' });
      expect(crash.status).toBe(418);
      expect(await crash.json()).toEqual({ mine: 'Error: not a lock error' });
    } finally {
      await app.stop();
    }
  });

  it('exceptionFilter: false leaves undecorated routes to the app (Nest answers 500); @WithLock routes still answer 409', async () => {
    const app = await start([], { exceptionFilter: false });
    try {
      const held = [await app.locks.acquire('plain:1'), await app.locks.acquire('decorated:1')];
      expect((await fetch(`${app.url}/plain/1`, { method: 'POST' })).status).toBe(500);
      const decorated = await fetch(`${app.url}/decorated/1`, { method: 'POST' });
      expect(decorated.status).toBe(409);
      expect(await decorated.json()).toMatchObject({ code: 'LOCK_BUSY' });
      for (const lock of held) await lock.release();
    } finally {
      await app.stop();
    }
    expect(() => validateModuleOptions({ exceptionFilter: 'no' as never })).toThrow(
      expect.objectContaining({ argument: 'options.exceptionFilter' }),
    );
  });
});

describe('outage warnings per application, with two apps in one process', () => {
  it("one app's lock acquired on its own Redis neither resets nor shares the other app's outage warning", async () => {
    const servers = [await RedisServer.start(), await RedisServer.start()];
    // One logger for both: Nest's static Logger writes to the last app's logger.
    const logger = new CapturedLogger();
    const metadata = { controllers: [OutcomesController], providers: [Reservations] };
    const [down, up] = [
      await startHttpApp('express', { redis: servers[0]!.url, storeTimeout: 300 }, metadata, logger),
      await startHttpApp('express', { redis: servers[1]!.url, storeTimeout: 300 }, metadata, logger),
    ];
    const warnings = () => logger.texts('warn', 'Answering LOCK_UNAVAILABLE');
    servers[0]!.pause();
    try {
      expect((await fetch(`${down!.url}/decorated/1`, { method: 'POST' })).status).toBe(503);
      expect(warnings()).toHaveLength(1);
      // The other app, on a Redis that answers, acquires through a route...
      expect((await fetch(`${up!.url}/decorated/1`, { method: 'POST' })).status).toBe(201);
      // ...which says nothing about the first app's store: its outage goes on, not warned again.
      expect((await fetch(`${down!.url}/decorated/2`, { method: 'POST' })).status).toBe(503);
      expect(warnings()).toHaveLength(1);
      // The second app's own outage is its first: warned about, not silenced by the first app's.
      servers[1]!.pause();
      expect((await fetch(`${up!.url}/decorated/3`, { method: 'POST' })).status).toBe(503);
      expect(warnings()).toHaveLength(2);
    } finally {
      for (const server of servers) server.resume();
      await down!.app.close();
      await up!.app.close();
      for (const server of servers) await server.stop();
    }
  }, 30_000);
});
