import { BullModule, InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Job, type Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LockErrorCode, LockService, RedisLockModule, WithLock } from '../../../lib';
import { CapturedLogger } from '../../support/captured-logger';
import { RedisServer } from '../../support/redis-server';
import { waitFor } from '../../support/wait-for';

const QUEUE = 'outcomes';
const failures: { jobId: string; code: LockErrorCode | undefined; message: string }[] = [];

@Processor(QUEUE, { concurrency: 4 })
class OrderProcessor extends WorkerHost {
  // Templates read the processor's own arguments: the job.
  @WithLock('order:{0.data.id}', { wait: 0 })
  async process(job: Job<{ id: string }>): Promise<string> {
    return `processed ${job.data.id}`;
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job, error: Error & { code?: LockErrorCode }): void {
    failures.push({ jobId: job.id!, code: error.code, message: error.message });
  }
}

class QueueHandle {
  constructor(@InjectQueue(QUEUE) readonly queue: Queue) {}
}

describe('lock outcomes in a BullMQ worker', () => {
  let server: RedisServer;
  let app: INestApplicationContext;
  let events: QueueEvents;
  const logger = new CapturedLogger();

  beforeAll(async () => {
    server = await RedisServer.start();
    const { hostname: host, port } = new URL(server.url);
    const module = await Test.createTestingModule({
      imports: [
        RedisLockModule.forRoot({ redis: server.url }),
        BullModule.forRoot({ connection: { host, port: Number(port) } }),
        BullModule.registerQueue({ name: QUEUE }),
      ],
      providers: [OrderProcessor, QueueHandle],
    })
      .setLogger(logger)
      .compile();
    app = await module.init();
    events = new QueueEvents(QUEUE, { connection: { host, port: Number(port) } });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await events?.close();
    await app?.close();
    await server?.stop();
  });

  it('a busy lock fails the job with the error and its code LOCK_BUSY; a retry after the release completes it', async () => {
    const { queue } = app.get(QueueHandle);
    const held = await app.get(LockService).acquire('order:7');
    const job = await queue.add('pay', { id: '7' }, { attempts: 5, backoff: { type: 'fixed', delay: 300 } });
    await waitFor(() => failures.some((f) => f.jobId === job.id), 5_000);
    expect(failures.find((f) => f.jobId === job.id)).toEqual({
      jobId: job.id,
      code: 'LOCK_BUSY',
      message: expect.stringContaining('"order:7" is held by another owner'),
    });
    expect((await queue.getJob(job.id!))?.failedReason).toContain('"order:7" is held by another owner');
    await held.release();
    expect(await job.waitUntilFinished(events, 10_000)).toBe('processed 7');
    expect(logger.texts('error')).toEqual([]);
  });
});
