import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { Semaphore } from 'redis-semaphore';
import { LockService, RedisLockModule } from '../../lib';
import { percentile } from '../stats';
import { holdFor, now } from '../timing';

/** One way to run a critical section: as a reader (shared) or a writer (exclusive), or a permit. */
export interface SectionRunner {
  readonly name: string;
  run(key: string, mode: 'read' | 'write', work: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export interface SharedKindsResult {
  sectionsPerSec: number;
  /** Most sections inside at once. */
  mostInside: number;
  waitP99: number;
  failures: number;
}

/** The variants side by side: ours per kind, what users would pick instead. */
export type SharedVariant = 'ours-limit' | 'redis-semaphore' | 'ours-read-write' | 'ours-mutex';

/**
 * counting-limit and read-mostly: `callers` callers x `sections` sections of `holdMs` on one key,
 * in this process. `writeEvery`: one section in that many is a write (0: none, as for a limit).
 */
export async function sharedSections(
  runner: SectionRunner,
  key: string,
  callers: number,
  sections: number,
  holdMs: number,
  writeEvery: number,
  budget: number,
): Promise<SharedKindsResult> {
  const waits: number[] = [];
  let inside = 0;
  let mostInside = 0;
  let done = 0;
  let failures = 0;
  const start = now();
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; i < sections && now() - start < budget; i++) {
        const mode = writeEvery > 0 && (caller * sections + i) % writeEvery === 0 ? 'write' : 'read';
        const asked = now();
        try {
          await runner.run(key, mode, async () => {
            waits.push(now() - asked);
            mostInside = Math.max(mostInside, ++inside);
            await holdFor(holdMs);
            inside--;
            done++;
          });
        } catch {
          failures++;
        }
      }
    }),
  );
  const wall = now() - start;
  return { sectionsPerSec: done / (wall / 1000), mostInside, waitP99: percentile(waits, 99), failures };
}

/** The runner of one variant, on the Redis at `url`; `limit` for the counting ones. */
export async function createRunner(variant: SharedVariant, url: string, limit: number): Promise<SectionRunner> {
  if (variant === 'redis-semaphore') {
    const client = new Redis(url);
    return {
      name: variant,
      run: async (key, _mode, work) => {
        const semaphore = new Semaphore(client, `semaphore:${key}`, limit, {
          acquireTimeout: 10_000,
          lockTimeout: 10_000,
        });
        await semaphore.acquire();
        try {
          await work();
        } finally {
          await semaphore.release();
        }
      },
      close: async () => void (await client.quit()),
    };
  }
  const app = await NestFactory.createApplicationContext(RedisLockModule.forRoot({ redis: url }), { logger: false });
  const locks = app.get(LockService);
  const options = (mode: 'read' | 'write') => {
    if (variant === 'ours-limit') return { limit };
    return variant === 'ours-read-write' ? { mode } : {};
  };
  return {
    name: variant,
    run: (key, mode, work) =>
      locks.withLock(`${variant}:${key}`, work, { ttl: 10_000, wait: 10_000, ...options(mode) }),
    close: () => app.close(),
  };
}
