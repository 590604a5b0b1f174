import { Global, Injectable, Module, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockService, LockStoreError, RedisLockModule } from '../../lib';
import { RedisServer } from '../support/redis-server';
import { waitFor } from '../support/wait-for';

/**
 * The store closes last: a provider's `onApplicationShutdown` in another module can still take and
 * release a lock, whatever the order of imports. Nest runs each shutdown phase module by module:
 * the root module first, then by increasing import distance, global modules last; modules at the
 * same distance in reverse import order. So, by Nest's own ordering (checked against the lib before
 * this feature), with the user's module next to RedisLockModule:
 * - neither global, user's module imported AFTER: its hook runs before RedisLockModule's;
 * - neither global, imported BEFORE: its hook runs after RedisLockModule's;
 * - both global, AFTER: before RedisLockModule's; both global, BEFORE: after it.
 * The assertions are about the outcome only, so they hold however the module orders its own hooks.
 */
const outcomes = new Map<string, string>();

/** A module whose provider takes a lock in its onApplicationShutdown and records how it went. */
function shutdownWorkModule(name: string, global: boolean, client: Redis): Type {
  @Injectable()
  class ShutdownWork implements OnApplicationShutdown {
    constructor(private readonly moduleRef: ModuleRef) {}

    async onApplicationShutdown(): Promise<void> {
      try {
        // Found wherever RedisLockModule is (it need not be global, nor imported by this module).
        const locks = this.moduleRef.get(LockService, { strict: false });
        const inRedis = await locks.withLock(`on-shutdown:${name}`, () => client.exists(`lock:{on-shutdown:${name}}`));
        outcomes.set(name, inRedis === 1 ? 'held in Redis' : 'not in Redis');
      } catch (error) {
        outcomes.set(name, `${(error as Error).name}: ${(error as Error).message}`);
      }
    }
  }
  @Module({ providers: [ShutdownWork] })
  class ShutdownWorkModule {}
  return global ? (Global()(ShutdownWorkModule) ?? ShutdownWorkModule) : ShutdownWorkModule;
}

const VARIANTS = [
  { name: 'imported after, neither global', after: true, global: false },
  { name: 'imported before, neither global', after: false, global: false },
  { name: 'imported after, both global', after: true, global: true },
  { name: 'imported before, both global', after: false, global: true },
] as const;

describe("drain on shutdown: locks still work in other modules' onApplicationShutdown", () => {
  let server: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    client = server.client();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it.each(VARIANTS)(
    '$name: the hook takes and releases a lock; only after close() do acquisitions fail',
    async ({ name, after, global }) => {
      const work = shutdownWorkModule(name, global, client);
      const locks = RedisLockModule.forRoot({ redis: server.url, isGlobal: global });
      const module = await Test.createTestingModule({ imports: after ? [locks, work] : [work, locks] }).compile();
      const app = await module.init();
      const service = app.get(LockService);
      await service.isLocked('warm-up'); // the module's client connects on its first command
      const connectionsBefore = await connections(client);

      await app.close();
      expect(outcomes.get(name)).toBe('held in Redis');
      expect(await client.exists(`lock:{on-shutdown:${name}}`)).toBe(0);
      // The store did close in the end: new acquisitions fail, and the module's connection is gone.
      await expect(service.acquire('after-close')).rejects.toBeInstanceOf(LockStoreError);
      await waitFor(async () => (await connections(client)) < connectionsBefore, 5_000);
    },
  );
});

/** How many clients the server has connected. */
async function connections(client: Redis): Promise<number> {
  const list = (await client.client('LIST')) as string;
  return list.split('\n').filter((line) => line.trim() !== '').length;
}
