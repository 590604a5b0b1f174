import { Controller, Get, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLockModule } from '../../lib';
import { RedisLockHealthIndicator } from '../../lib/nest/health';
import { RedisServer } from '../support/redis-server';
import { waitFor } from '../support/wait-for';

const STORE_TIMEOUT = 1_000;

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
}

describe('RedisLockHealthIndicator (@nestjs/terminus)', () => {
  let server: RedisServer;
  let app: INestApplication;

  beforeAll(async () => {
    server = await RedisServer.start();
    const module = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false }), RedisLockModule.forRoot({ redis: server.url, storeTimeout: STORE_TIMEOUT })],
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

  it('down within storeTimeout once the server is gone, up again after it restarts', async () => {
    await server.kill();
    const started = performance.now();
    const answer = await request(app.getHttpServer()).get('/health');
    // A generous bound on "within storeTimeout": the check never hangs on ioredis' offline queue.
    expect(performance.now() - started).toBeLessThan(STORE_TIMEOUT + 2_000);
    expect(answer.status).toBe(503);
    expect(answer.body.error.locks.status).toBe('down');
    expect(answer.body.error.locks.message).toMatch(/isLocked|timed out|Redis/i);

    await server.restart();
    await waitFor(async () => (await request(app.getHttpServer()).get('/health')).status === 200, 15_000, 200);
  }, 30_000);
});
