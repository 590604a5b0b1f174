import { Controller, Get, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockArgumentError, LockService, RedisLockModule } from '../../lib';
import { RedisLockHealthIndicator } from '../../lib/nest/health';
import { RedisServer } from '../support/redis-server';
import { waitFor } from '../support/wait-for';

const STORE_TIMEOUT = 3_000;

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly lockHealth: RedisLockHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.lockHealth.isHealthy('locks')]);
  }

  @Get('leaders')
  @HealthCheck()
  leaders() {
    return this.health.check([() => this.lockHealth.isHealthy('locks', { leaderships: true })]);
  }

  @Get('quick')
  @HealthCheck()
  quick() {
    return this.health.check([() => this.lockHealth.isHealthy('locks', { timeout: 200 })]);
  }
}

describe('RedisLockHealthIndicator (@nestjs/terminus)', () => {
  let server: RedisServer;
  let app: INestApplication;

  beforeAll(async () => {
    server = await RedisServer.start();
    const module = await Test.createTestingModule({
      imports: [
        TerminusModule.forRoot({ logger: false }),
        RedisLockModule.forRoot({ redis: server.url, storeTimeout: STORE_TIMEOUT }),
      ],
      controllers: [HealthController],
      providers: [RedisLockHealthIndicator],
    }).compile();
    app = module.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('up with the round-trip time while Redis answers', async () => {
    const answer = await request(app.getHttpServer()).get('/health').expect(200);
    expect(answer.body.status).toBe('ok');
    expect(answer.body.info.locks.status).toBe('up');
    expect(answer.body.info.locks.roundTripMs).toBeGreaterThanOrEqual(0);
  });

  it('down within its own timeout (500 ms by default, not storeTimeout) while Redis is stopped, with a message for an operator', async () => {
    server.pause();
    try {
      for (const [path, timeout] of [
        ['/health', 500],
        ['/health/quick', 200],
      ] as const) {
        const started = performance.now();
        const answer = await request(app.getHttpServer()).get(path);
        const elapsed = performance.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(timeout - 20);
        // Well under storeTimeout (3 s here); generous for a loaded machine.
        expect(elapsed).toBeLessThan(timeout + 1_500);
        expect(answer.status).toBe(503);
        expect(answer.body.error.locks).toEqual({
          status: 'down',
          message: `Redis did not answer within ${timeout} ms`,
        });
      }
    } finally {
      server.resume();
    }
    await waitFor(async () => (await request(app.getHttpServer()).get('/health')).status === 200, 15_000, 200);
  }, 30_000);

  it('reports the leaderships this replica holds when asked to', async () => {
    const leadership = app.get(LockService).campaign('billing');
    const term = await leadership.elected();
    const answer = await request(app.getHttpServer()).get('/health/leaders').expect(200);
    expect(answer.body.info.locks.leaderships).toEqual([{ name: 'billing', term }]);
    const plain = await request(app.getHttpServer()).get('/health').expect(200);
    expect(plain.body.info.locks).not.toHaveProperty('leaderships');
    await leadership.resign();
    const after = await request(app.getHttpServer()).get('/health/leaders').expect(200);
    expect(after.body.info.locks.leaderships).toEqual([]);
  });

  it('a bad timeout is an argument error', async () => {
    const indicator = app.get(RedisLockHealthIndicator);
    await expect(indicator.isHealthy('locks', { timeout: 0 })).rejects.toThrow(LockArgumentError);
    await expect(indicator.isHealthy('locks', { timeout: 1.5 })).rejects.toThrow(/options\.timeout/);
    await expect(indicator.isHealthy('locks', { leaderships: 'yes' as never })).rejects.toThrow(/options\.leaderships/);
  });

  it('down once the server is gone, up again after it restarts', async () => {
    await server.kill();
    const started = performance.now();
    const answer = await request(app.getHttpServer()).get('/health');
    // A generous bound: the check never hangs on ioredis' offline queue.
    expect(performance.now() - started).toBeLessThan(STORE_TIMEOUT + 2_000);
    expect(answer.status).toBe(503);
    expect(answer.body.error.locks.status).toBe('down');
    // The connection's own error (refused) or no answer: worded for an operator, not a method name.
    expect(answer.body.error.locks.message).toMatch(/^Redis (could not be reached: |did not answer within 500 ms)/);
    expect(answer.body.error.locks.message).not.toMatch(/isLocked/);

    await server.restart();
    await waitFor(async () => (await request(app.getHttpServer()).get('/health')).status === 200, 15_000, 200);
  }, 30_000);
});
