import { Test, type TestingModule } from '@nestjs/testing';
import { LockService, RedisLockModule, type RedisLockModuleOptions } from '../../lib';
import { RedisServer } from './redis-server';

/** The stores every behavioural suite runs against: a real redis-server, and the memory store. */
export const STORES = [
  { name: 'redis', options: (server: RedisServer): RedisLockModuleOptions => ({ redis: server.url }) },
  { name: 'memory', options: (): RedisLockModuleOptions => ({ store: 'memory' }) },
] as const;

/** A Nest application context with RedisLockModule; close it with `module.close()`. */
export async function lockModule(options: RedisLockModuleOptions): Promise<{ module: TestingModule; locks: LockService }> {
  const module = await Test.createTestingModule({ imports: [RedisLockModule.forRoot(options)] }).compile();
  await module.init();
  return { module, locks: module.get(LockService) };
}

/**
 * A redis-server and two LockServices on `store`, as two processes would have them: on Redis, two
 * independent modules; on the memory store (one process by nature), the same module twice.
 * `close()` ends the modules, then the server.
 */
export async function startLockPair(
  store: (typeof STORES)[number],
  options: RedisLockModuleOptions,
): Promise<{ server: RedisServer; locks: LockService; other: LockService; close: () => Promise<void> }> {
  const server = await RedisServer.start();
  const first = await lockModule({ ...store.options(server), ...options });
  const second = store.name === 'redis' ? await lockModule({ ...store.options(server), ...options }) : first;
  return {
    server,
    locks: first.locks,
    other: second.locks,
    close: async () => {
      if (second !== first) await second.module.close();
      await first.module.close();
      await server.stop();
    },
  };
}
