import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { LockService, RedisLockModule } from '../../lib';

/**
 * A separate OS process with its own Nest application: on 'go' it runs `callers` concurrent loops
 * of `sections` critical sections, each a non-atomic read-modify-write of a Redis counter under
 * the lock, and reports what each section read and the fence it held.
 */
async function main(): Promise<void> {
  const url = process.env.REDIS_URL!;
  const app = await NestFactory.createApplicationContext(RedisLockModule.forRoot({ redis: url }), { logger: false });
  const locks = app.get(LockService);
  const redis = new Redis(url);
  process.send!({ type: 'ready' });
  process.once('message', async (message: { callers: number; sections: number }) => {
    const seen: { read: number; fence: number }[] = [];
    await Promise.all(
      Array.from({ length: message.callers }, async () => {
        for (let i = 0; i < message.sections; i++) {
          await locks.withLock(
            'cross-process-counter',
            async (lock) => {
              const read = Number((await redis.get('cross-process-counter')) ?? 0);
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
              await redis.set('cross-process-counter', read + 1);
              seen.push({ read, fence: lock.fence });
            },
            { wait: 60_000 },
          );
        }
      }),
    );
    process.send!({ type: 'done', seen });
    redis.disconnect();
    await app.close();
    process.exit(0);
  });
}

void main();
