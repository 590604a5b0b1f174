import { setTimeout as sleepFor } from 'node:timers/promises';
import { Controller, Injectable, Param, Post } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CurrentLock, type Lock, LockExceptionFilter, LockService, WithLock } from '../../../lib';
import type { CapturedLogger } from '../../support/captured-logger';
import { ADAPTERS } from '../../support/http-app';
import { startLoggedApp } from '../../support/logged-app';
import type { RedisServer } from '../../support/redis-server';
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

  // Undecorated routes: their lock errors are answered by the global LockExceptionFilter.
  @Post('plain/:id')
  plain(@Param('id') id: string) {
    return this.locks.withLock(`plain:${id}`, () => ({ ok: id }), { wait: 0 });
  }

  @Post('service/:sku')
  service(@Param('sku') sku: string) {
    return this.reservations.reserve(sku);
  }

  @Post('bad-key')
  badKey() {
    return this.locks.withLock('', () => 'never');
  }

  @Post('plain-lost/:id')
  plainLost(@Param('id') id: string) {
    return this.locks.withLock(`plain-lost:${id}`, (lock) => sleepFor(20_000, 'done', { signal: lock.signal }), { ttl: 300 });
  }

  // A decorated route: the interceptor answers.
  @Post('decorated/:id')
  @WithLock('decorated:{id}', { wait: 0 })
  decorated(@Param('id') id: string) {
    return { ok: id };
  }

  // Passes lock.signal on: a lost lock stops it with an AbortError whose cause is the LockLostError.
  @Post('lost/:id')
  @WithLock('lost:{id}', { ttl: 300 })
  lost(@CurrentLock() lock: Lock) {
    return sleepFor(20_000, 'done', { signal: lock.signal });
  }
}

describe.each(ADAPTERS)('lock outcomes over HTTP (%s, LockExceptionFilter registered globally)', (adapter) => {
  let started: Awaited<ReturnType<typeof startLoggedApp>>;
  let server: RedisServer;
  let url: string;
  let locks: LockService;
  let logger: CapturedLogger;

  beforeAll(async () => {
    started = await startLoggedApp(
      adapter,
      { controllers: [OutcomesController], providers: [Reservations, { provide: APP_FILTER, useClass: LockExceptionFilter }] },
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

  it('answers 400 with the code and the argument for a bad key', async () => {
    const response = await post('/bad-key');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ statusCode: 400, code: 'LOCK_BAD_ARGUMENT', argument: 'key' });
  });

  it('answers 503 LOCK_LOST when a handler that passes lock.signal on is stopped by a lost lock', async () => {
    const redis = server.client();
    for (const [path, key] of [['/lost/1', 'lost:1'], ['/plain-lost/1', 'plain-lost:1']] as const) {
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
