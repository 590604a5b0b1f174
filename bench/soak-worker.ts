import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { LockService, RedisLockModule } from '../lib';

/**
 * soak, in its own process started with --expose-gc: `cycles` acquire/release cycles by
 * 16 concurrent loops; heap and active handles are read after a full GC before and after.
 */
async function main(): Promise<void> {
  const cycles = Number(process.argv[2] ?? 200_000);
  const app = await NestFactory.createApplicationContext(RedisLockModule.forRoot({ redis: process.env.REDIS_URL! }), {
    logger: false,
  });
  const locks = app.get(LockService);
  const loops = 16;
  const measure = async () => {
    for (let i = 0; i < 3; i++) {
      global.gc!();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { heap: process.memoryUsage().heapUsed, handles: process.getActiveResourcesInfo().length };
  };
  // Warm up so that lazily created state (scripts, connection buffers, JIT) is in the baseline.
  for (let i = 0; i < 2_000; i++) await (await locks.acquire(`warm:${i % 16}`)).release();
  const before = await measure();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (let i = loop; i < cycles; i += loops) await (await locks.acquire(`soak:${loop}:${i % 1000}`)).release();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await measure();
  await app.close();
  process.send!({
    cycles,
    seconds,
    heapGrowthMb: (after.heap - before.heap) / 1024 / 1024,
    handlesBefore: before.handles,
    handlesAfter: after.handles,
  });
}

void main();
