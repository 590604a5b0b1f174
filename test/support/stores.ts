import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import Valkey from 'iovalkey';
import { LockService, RedisLockModule, type RedisLockModuleOptions } from '../../lib';
import type { LockStore } from '../../lib/stores/lock-store.interface';
import { MemoryStore } from '../../lib/stores/memory/memory.store';
import { QuorumStore } from '../../lib/stores/quorum/quorum.store';
import type { RedisConnection } from '../../lib/stores/redis/create-redis-client';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { RedisServer } from './redis-server';

/** One store started for a suite: what it needs is running until `stop()`. */
export interface StoreRun {
  /** The module options that select this store. */
  options: RedisLockModuleOptions;
  /** The redis-server behind it (a quorum's first node); undefined for the memory store. */
  server: RedisServer | undefined;
  /** A LockStore of its own, constructed directly (no module): close it with `close()`. */
  createStore(timeout: number): LockStore;
  stop(): Promise<void>;
}

/**
 * The stores every behavioural suite runs against: a real redis-server, a quorum of three, and
 * the memory store. Each starts what it needs.
 */
export const STORES = [
  {
    name: 'redis',
    async start(): Promise<StoreRun> {
      const server = await RedisServer.start();
      return {
        options: { redis: server.url },
        server,
        createStore: (timeout) => new RedisStore(new Redis(server.url), true, timeout, new Logger('RedisStore')),
        stop: () => server.stop(),
      };
    },
  },
  {
    name: 'quorum',
    async start(): Promise<StoreRun> {
      const servers = await Promise.all([0, 1, 2].map(() => RedisServer.start()));
      return {
        options: { redis: servers.map((server) => server.url) },
        server: servers[0],
        createStore: (timeout) => quorumOf(servers, timeout),
        stop: async () => void (await Promise.all(servers.map((server) => server.stop()))),
      };
    },
  },
  {
    name: 'memory',
    async start(): Promise<StoreRun> {
      return {
        options: { store: 'memory' },
        server: undefined,
        createStore: () => new MemoryStore(),
        stop: async () => undefined,
      };
    },
  },
] as const;

/**
 * A redis-server reached through iovalkey (ioredis' fork for Valkey) instead of ioredis: the store
 * takes its client by shape. Not among STORES: the contract suite runs it, the other suites need
 * not run every behaviour twice on one server kind.
 */
export const IOVALKEY_STORE = {
  name: 'redis via iovalkey',
  async start(): Promise<StoreRun> {
    const server = await RedisServer.start();
    return {
      // A module given a client leaves it open: suites building modules pass their own iovalkey client.
      options: { redis: server.url },
      server,
      createStore: (timeout) =>
        new RedisStore(new Valkey(server.url) as unknown as RedisConnection, true, timeout, new Logger('RedisStore')),
      stop: () => server.stop(),
    };
  },
} as const;

/** A QuorumStore on `servers`, built directly (no module), owning its connections. */
export function quorumOf(
  servers: readonly RedisServer[],
  timeout: number,
  logger = new Logger('QuorumStore'),
): QuorumStore {
  return new QuorumStore(
    servers.map((server) => {
      const client = new Redis(server.url);
      client.on('error', () => undefined); // a node down is part of these tests
      return new RedisStore(client, true, timeout, logger);
    }),
  );
}

export type StoreDescriptor = (typeof STORES)[number];

/** A Nest application context with RedisLockModule; close it with `module.close()`. */
export async function lockModule(
  options: RedisLockModuleOptions,
): Promise<{ module: TestingModule; locks: LockService }> {
  const module = await Test.createTestingModule({ imports: [RedisLockModule.forRoot(options)] }).compile();
  await module.init();
  return { module, locks: module.get(LockService) };
}

/**
 * `store` started, and two LockServices on it, as two processes would have them: on Redis, two
 * independent modules; on the memory store (one process by nature), the same module twice.
 * `close()` ends the modules, then the store's server (if it has one).
 */
export async function startLockPair(
  store: StoreDescriptor,
  options: RedisLockModuleOptions,
): Promise<{ run: StoreRun; locks: LockService; other: LockService; close: () => Promise<void> }> {
  const run = await store.start();
  const first = await lockModule({ ...run.options, ...options });
  const second = store.name !== 'memory' ? await lockModule({ ...run.options, ...options }) : first;
  return {
    run,
    locks: first.locks,
    other: second.locks,
    close: async () => {
      if (second !== first) await second.module.close();
      await first.module.close();
      await run.stop();
    },
  };
}
