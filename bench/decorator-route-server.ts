import 'reflect-metadata';
import { RedlockModule, Redlock } from '@anchan828/nest-redlock';
import { Controller, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { RedisLockModule, WithLock } from '../lib';

/**
 * decorator-route's server: the same trivial route three times, bare, under @WithLock, and under
 * @anchan828/nest-redlock's @Redlock. Started by the benchmark with REDIS_URL; prints its port.
 */
const url = process.env.REDIS_URL!;

@Controller()
class ItemsController {
  @Post('plain/:id')
  plain(@Param('id') id: string) {
    return { id };
  }

  @Post('locked/:id')
  @WithLock('item:{id}', { ttl: 10_000, wait: 0 })
  locked(@Param('id') id: string) {
    return { id };
  }

  @Post('redlock/:id')
  @Redlock((_target: unknown, id: string) => `redlock-item:${id}`, 10_000)
  async redlock(@Param('id') id: string) {
    return { id };
  }
}

@Module({
  imports: [
    RedisLockModule.forRoot({ redis: url }),
    RedlockModule.register({ clients: [new Redis(url)], isGlobal: true }),
  ],
  controllers: [ItemsController],
})
class BenchAppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(BenchAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  process.send!({ type: 'listening', port });
  process.on('message', async () => {
    await app.close();
    process.exit(0);
  });
}

void main();
