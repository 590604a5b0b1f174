/**
 * A user's app, compiled against the packed tarball (strict, skipLibCheck: false) and run by
 * test/compat.spec.ts for each supported Nest + client pair, as CommonJS and as ESM. No optional
 * peer (@opentelemetry/api, @nestjs/terminus) is installed next to it. `./client` is the row's
 * client-*.ts: a URL for the ioredis rows, a user's own client for the iovalkey row.
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CurrentLock, type Lock, LockService, RedisLockModule, WithLock, requestKey } from 'nestjs-redis-lock';
import { LockTesting, RedisLockTestingModule } from 'nestjs-redis-lock/testing';
import { redisOption } from './client.js';

@Injectable()
class Jobs {
  runs = 0;

  @WithLock((id: string) => `job:${id}`, { wait: 0, onBusy: 'skip' })
  async run(id: string): Promise<string> {
    this.runs++;
    return id;
  }

  // @ts-expect-error the published typings check a key factory against the method
  @WithLock((id: number) => `job:${id}`)
  async wrongKey(id: string): Promise<string> {
    return id;
  }
}

@Module({ imports: [RedisLockTestingModule.forRoot()], providers: [Jobs] })
class TestingApp {}

async function main(): Promise<void> {
  void CurrentLock('k');
  void requestKey((request: { params: { id: string } }) => `order:${request.params.id}`);
  const redis = redisOption(process.env.REDIS_URL);
  const app = await NestFactory.createApplicationContext(RedisLockModule.forRoot({ redis: redis.option }), {
    logger: false,
  });
  const locks = app.get(LockService);
  const lock: Lock = await locks.acquire('smoke', { name: 'smoke' });
  const busy = await locks.tryAcquire('smoke');
  await lock.release();
  await app.close();
  await redis.close();

  const testing = await NestFactory.createApplicationContext(TestingApp, { logger: false });
  const held = await testing.get(LockTesting).holdBusy('job:1');
  const skipped = await testing.get(Jobs).run('1');
  await held.release();
  const ran = await testing.get(Jobs).run('1');
  await testing.close();
  console.log(JSON.stringify({ fence: lock.fence, busy, skipped: skipped ?? null, ran }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
