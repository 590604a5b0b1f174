import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { Mutex } from 'redis-semaphore';
import Redlock from 'redlock';
import { IoredisAdapter, createLock } from 'redlock-universal';
import { LockService, RedisLockModule } from '../lib';
import { sleep } from './timing';

/** A lock held by one of the libraries under test. */
export interface Held {
  release(): Promise<void>;
}

/** One library behind a common face: acquire `key` (waiting up to `wait` ms), release, close. */
export interface LockAdapter {
  readonly name: string;
  /** False for locks that cannot wait for a busy key (the raw baseline). */
  readonly waits: boolean;
  acquire(key: string, ttl: number, wait: number): Promise<Held>;
  close(): Promise<void>;
}

export type AdapterName =
  | 'nestjs-redis-lock'
  | 'raw-ioredis'
  | 'redlock-default'
  | 'redlock-tuned'
  | 'redis-semaphore'
  | 'redlock-universal'
  | 'spin-1ms'
  | 'nestjs-redis-lock-quorum'
  | 'redlock-quorum';

/** Libraries that wait for a busy lock, compared in the contention scenarios. */
export const WAITING: AdapterName[] = [
  'nestjs-redis-lock',
  'redlock-default',
  'redlock-tuned',
  'redis-semaphore',
  'redlock-universal',
  'spin-1ms',
];
/** All of them, compared uncontended; raw-ioredis is the physical limit there. */
export const ALL: AdapterName[] = [
  'nestjs-redis-lock',
  'raw-ioredis',
  'redlock-default',
  'redlock-tuned',
  'redis-semaphore',
  'redlock-universal',
];

/** The quorum (Redlock) comparison, on the same independent masters (`url`: their URLs, comma-separated). */
export const QUORUM: AdapterName[] = ['nestjs-redis-lock-quorum', 'redlock-quorum'];

const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export async function createAdapter(name: AdapterName, url: string): Promise<LockAdapter> {
  switch (name) {
    case 'nestjs-redis-lock':
    case 'nestjs-redis-lock-quorum': {
      const redis = name === 'nestjs-redis-lock' ? url : url.split(',');
      const app = await NestFactory.createApplicationContext(RedisLockModule.forRoot({ redis }), { logger: false });
      const locks = app.get(LockService);
      return {
        name,
        waits: true,
        acquire: async (key, ttl, wait) => {
          const lock = await locks.acquire(`ours:${key}`, { ttl, wait });
          return { release: async () => void (await lock.release()) };
        },
        close: () => app.close(),
      };
    }
    case 'raw-ioredis':
    case 'spin-1ms': {
      // SET NX PX + compare-and-delete: two round trips, nothing else. spin-1ms retries every 1 ms.
      const client = new Redis(url);
      client.defineCommand('rawRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
      const release = client as unknown as { rawRelease(key: string, token: string): Promise<number> };
      let counter = 0;
      return {
        name,
        waits: name === 'spin-1ms',
        acquire: async (key, ttl, wait) => {
          const token = `${process.pid}:${++counter}:${Math.random()}`;
          const redisKey = `${name}:${key}`;
          const deadline = Date.now() + wait;
          for (;;) {
            if ((await client.set(redisKey, token, 'PX', ttl, 'NX')) === 'OK') {
              return { release: async () => void (await release.rawRelease(redisKey, token)) };
            }
            if (name === 'raw-ioredis' || Date.now() >= deadline) throw new Error(`${name}: busy`);
            await sleep(1);
          }
        },
        close: async () => void (await client.quit()),
      };
    }
    case 'redlock-default':
    case 'redlock-tuned':
    case 'redlock-quorum': {
      // redlock-quorum: the same masters as our quorum (`url` lists them), tuned as redlock-tuned.
      const clients = (name === 'redlock-quorum' ? url.split(',') : [url]).map((node) => new Redis(node));
      const redlock =
        name === 'redlock-default'
          ? new Redlock(clients)
          : new Redlock(clients, { retryCount: -1, retryDelay: 10, retryJitter: 5 });
      return {
        name,
        waits: true,
        acquire: async (key, ttl) => {
          const lock = await redlock.acquire([`${name}:${key}`], ttl);
          return { release: async () => void (await lock.release()) };
        },
        close: async () => void (await Promise.all(clients.map((client) => client.quit()))),
      };
    }
    case 'redis-semaphore': {
      const client = new Redis(url);
      return {
        name,
        waits: true,
        acquire: async (key, ttl, wait) => {
          // wait 0: one attempt (an acquireTimeout of 0-1 ms would fire before the first reply).
          const limits = wait === 0 ? { acquireAttemptsLimit: 1, acquireTimeout: 10_000 } : { acquireTimeout: wait };
          const mutex = new Mutex(client, `${name}:${key}`, { lockTimeout: ttl, ...limits });
          await mutex.acquire();
          return { release: () => mutex.release() };
        },
        close: async () => void (await client.quit()),
      };
    }
    case 'redlock-universal': {
      const client = new Redis(url);
      const adapter = new IoredisAdapter(client);
      return {
        name,
        waits: true,
        acquire: async (key, ttl, wait) => {
          // Its default gives up after 3 retries 100 ms apart; allow the same wait as the others.
          const lock = createLock({
            adapter,
            key: `${name}:${key}`,
            ttl,
            retryAttempts: Math.ceil(wait / 100),
            retryDelay: 100,
          });
          const handle = await lock.acquire();
          return { release: async () => void (await lock.release(handle)) };
        },
        close: async () => void (await client.quit()),
      };
    }
  }
}
