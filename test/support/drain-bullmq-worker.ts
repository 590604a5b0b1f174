import 'reflect-metadata';
import { BullModule, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisLockModule, WithLock } from '../../lib';
import type { DrainEvent } from './drain-protocol';

/**
 * A queue worker process for test/drain.bullmq.spec.ts: its own Nest application with a real
 * @nestjs/bullmq processor consuming QUEUE on REDIS_URL. Each job runs under one shared lock
 * (LOCK_KEY) and increments COUNTER_KEY with a deliberately non-atomic GET, sleep, SET, so two
 * jobs that overlap lose an update. The job never looks at its lock's signal: it relies on
 * shutdown draining, not on cooperation.
 *
 * Environment: REDIS_URL, QUEUE, LOCK_KEY, COUNTER_KEY, HOLD_MS (sleep inside the section),
 * CONCURRENCY (jobs active at once in this process), SHUTDOWN_GRACE (module option, if set).
 */
const url = process.env.REDIS_URL!;
const queue = process.env.QUEUE!;
const lockKey = process.env.LOCK_KEY!;
const counterKey = process.env.COUNTER_KEY!;
const holdMs = Number(process.env.HOLD_MS ?? 200);
const concurrency = Number(process.env.CONCURRENCY ?? 2);
const shutdownGrace =
  process.env.SHUTDOWN_GRACE === undefined ? {} : { shutdownGrace: Number(process.env.SHUTDOWN_GRACE) };

const send = (event: DrainEvent) => process.send?.(event);
process.on('unhandledRejection', (error) => send({ event: 'unhandled', message: String(error) }));
process.on('uncaughtException', (error) => send({ event: 'unhandled', message: String(error) }));

/**
 * The counter's own connection, separate from the lock's and BullMQ's. It is not closed by a
 * shutdown hook on purpose: jobs use it until BullMQ's worker has closed, which is the last
 * onApplicationShutdown hook to run (BullModule is global); the process exit ends it.
 */
const counter = new Redis(url);
counter.on('error', () => undefined);

let active = 0;

@Processor(queue, { concurrency })
class CounterProcessor extends WorkerHost {
  // `wait` comes from the module (30 s): jobs queue on the lock instead of failing busy.
  @WithLock(lockKey)
  async process(job: Job): Promise<number> {
    send({ event: 'holding', jobId: job.id!, active });
    const read = Number((await counter.get(counterKey)) ?? 0);
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    await counter.set(counterKey, read + 1);
    send({ event: 'done', jobId: job.id! });
    return read;
  }

  @OnWorkerEvent('active')
  onActive(job: Job): void {
    active++;
    send({ event: 'active', jobId: job.id!, active });
  }

  @OnWorkerEvent('completed')
  onCompleted(): void {
    active--;
  }

  @OnWorkerEvent('failed')
  onFailed(): void {
    active--;
  }
}

@Module({
  imports: [
    RedisLockModule.forRoot({ redis: url, wait: 30_000, ...shutdownGrace }),
    BullModule.forRoot({ connection: { host: new URL(url).hostname, port: Number(new URL(url).port) } }),
    BullModule.registerQueue({ name: queue }),
  ],
  providers: [CounterProcessor],
})
class WorkerAppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(WorkerAppModule, { logger: ['error'] });
  // SIGTERM runs app.close(), then process.exit(0) (Nest's default would re-raise the signal instead).
  app.enableShutdownHooks(['SIGTERM'], { useProcessExit: true });
  send({ event: 'ready' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
