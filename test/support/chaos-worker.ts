import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Cluster, Redis } from 'ioredis';
import { type Lock, LockService, RedisLockModule } from '../../lib';
import type { WorkerCommand, WorkerEvent } from './chaos-protocol';

/**
 * A separate OS process with its own Nest application, driven by the chaos tests over IPC (see
 * chaos-protocol.ts). Anything unhandled is reported instead of crashing, so a test can assert
 * that nothing was.
 */
async function main(): Promise<void> {
  // REDIS_URL: one Redis, or a comma-separated list of a quorum's nodes; the counter the workers
  // update lives on COUNTER_URL (default: the one Redis), outside the faults injected into nodes.
  const url = process.env.REDIS_URL!;
  // REDIS_CLUSTER_NODES (host:port,…): a Cluster instead, for the module and the counters alike.
  const clusterNodes = process.env.REDIS_CLUSTER_NODES?.split(',').map((node) => {
    const [host, port] = node.split(':');
    return { host: host!, port: Number(port) };
  });
  // REDIS_URL with several URLs: a quorum of independent masters (counters on COUNTER_URL).
  const quorum = url ? url.split(',') : [];
  const send = (event: WorkerEvent) => process.send!(event);
  process.on('unhandledRejection', (error) => send({ event: 'unhandled', message: String(error) }));
  process.on('uncaughtException', (error) => send({ event: 'unhandled', message: String(error) }));
  // The counters: on the Cluster, or on COUNTER_URL / the one Redis.
  const redis = clusterNodes ? new Cluster(clusterNodes) : new Redis(process.env.COUNTER_URL ?? url);
  redis.on('error', () => undefined);
  const app = await NestFactory.createApplicationContext(
    RedisLockModule.forRoot({
      redis: clusterNodes ? redis : quorum.length > 1 ? quorum : url,
      storeTimeout: Number(process.env.STORE_TIMEOUT ?? 1_000),
    }),
    { logger: false },
  );
  const locks = app.get(LockService);
  let held: Lock | undefined;

  const handlers: { [C in WorkerCommand as C['cmd']]: (command: C) => Promise<void> } = {
    /** Critical sections doing a non-atomic read-modify-write of a Redis counter. */
    count: async ({ key, counterKey, callers, sections, maxDelay }) => {
      const seen: { read: number; fence: number }[] = [];
      await Promise.all(
        Array.from({ length: callers }, async () => {
          for (let i = 0; i < sections; i++) {
            await locks.withLock(
              key,
              async (lock) => {
                const read = Number((await redis.get(counterKey)) ?? 0);
                await new Promise((resolve) => setTimeout(resolve, Math.random() * maxDelay));
                await redis.set(counterKey, read + 1);
                seen.push({ read, fence: lock.fence });
              },
              { wait: 120_000 },
            );
          }
        }),
      );
      send({ event: 'counted', seen });
    },
    /** Takes the lock (a permit, with `limit`) and keeps it until told to release; reports its loss. */
    hold: async ({ key, ttl, limit }) => {
      const lock = (held = await locks.acquire(key, { ttl, limit }));
      lock.signal.addEventListener('abort', () => {
        send({ event: 'lost', reason: (lock.signal.reason as { reason?: string }).reason ?? 'unknown' });
      });
      send({ event: 'holding', fence: lock.fence, token: lock.token });
    },
    release: async () => {
      const released = await held!.release().catch(() => false);
      send({ event: 'released', released });
    },
    /** Waits for the lock, holds it briefly, releases. */
    acquire: async ({ key, wait, hold }) => {
      try {
        const lock = await locks.acquire(key, { wait });
        send({ event: 'acquired', fence: lock.fence });
        await new Promise((resolve) => setTimeout(resolve, hold));
        await lock.release();
      } catch (error) {
        send({ event: 'failed', error: (error as Error).name, message: (error as Error).message });
      }
    },
    exit: async () => {
      redis.disconnect();
      await app.close();
      process.exit(0);
    },
  };

  process.on('message', (command: WorkerCommand) => {
    void (handlers[command.cmd] as (command: WorkerCommand) => Promise<void>)(command).catch((error: unknown) =>
      send({ event: 'failed', error: (error as Error).name, message: (error as Error).message }),
    );
  });
  send({ event: 'ready' });
}

void main();
