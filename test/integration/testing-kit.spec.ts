import { Controller, type INestApplication, Injectable, Param, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Lock, LockLostError, type LockLostEvent, LockNotAcquiredError, LockService, WithLock } from '../../lib';
import { LockTesting, RedisLockTestingModule } from '../../lib/nest/testing';

// The README's example: an app's own code, tested for its 409, skip and lost-lock paths.
@Controller('orders')
class OrdersController {
  @Post(':id/pay')
  @WithLock('order:{id}', { wait: 0 })
  pay(@Param('id') id: string) {
    return { paid: id };
  }
}

@Injectable()
class ReportJob {
  runs = 0;
  @WithLock('nightly-report', { wait: 0, onBusy: 'skip' })
  async run(): Promise<'ran'> {
    this.runs++;
    return 'ran';
  }
}

@Injectable()
class Exporter {
  constructor(private readonly locks: LockService) {}

  /** Works until done or until the lock is lost, then says which. */
  export(started: (lock: Lock) => void): Promise<string> {
    return this.locks.withLock('export', (lock) => {
      started(lock);
      return new Promise<string>((resolve) =>
        lock.signal.addEventListener('abort', () =>
          resolve(`stopped: ${(lock.signal.reason as LockLostError).reason}`),
        ),
      );
    });
  }
}

describe('nestjs-redis-lock/testing', () => {
  let app: INestApplication;
  let testing: LockTesting;
  const lost: LockLostEvent[] = [];

  beforeEach(async () => {
    const module = await Test.createTestingModule({
      imports: [RedisLockTestingModule.forRoot({ onLockLost: (event) => lost.push(event) })],
      controllers: [OrdersController],
      providers: [ReportJob, Exporter],
    }).compile();
    app = module.createNestApplication({ logger: false });
    await app.init();
    testing = app.get(LockTesting);
    lost.length = 0;
  });
  afterEach(() => app.close());

  it('a key held by another owner: the route answers 409, and 201 once it is released', async () => {
    const busy = await testing.holdBusy('order:7');
    const answer = await request(app.getHttpServer()).post('/orders/7/pay');
    expect(answer.status).toBe(409);
    const { holders } = await app.get(LockService).inspect('order:7');
    expect(holders.map((holder) => [holder.holder, holder.fence])).toEqual([['LockTesting.holdBusy', busy.fence]]);
    await busy.release();
    await request(app.getHttpServer()).post('/orders/7/pay').expect(201, { paid: '7' });
  });

  it('holdBusy makes a counting lock and a read lock on the key busy too', async () => {
    const busy = await testing.holdBusy('export:t1');
    const locks = app.get(LockService);
    expect(await locks.tryAcquire('export:t1', { limit: 5 })).toBeNull();
    expect(await locks.tryAcquire('export:t1', { mode: 'read' })).toBeNull();
    await busy.release();
    const permit = await locks.tryAcquire('export:t1', { limit: 5 });
    expect(permit).not.toBeNull();
    await permit!.release();
  });

  it("a busy job with onBusy 'skip' does not run", async () => {
    const busy = await testing.holdBusy('nightly-report');
    const job = app.get(ReportJob);
    expect(await job.run()).toBeUndefined();
    expect(job.runs).toBe(0);
    await busy.release();
    expect(await job.run()).toBe('ran');
  });

  it('a held lock made lost: its signal aborts, onLockLost is told, the work sees the reason', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const result = app.get(Exporter).export(() => started());
    await running;
    expect(testing.heldKeys()).toEqual(['export']);
    expect(testing.loseHeldLocks({ key: 'export', reason: 'expired' })).toBe(1);
    expect(await result).toBe('stopped: expired');
    expect(lost.map((event) => [event.key, event.reason])).toEqual([['export', 'expired']]);
    expect(testing.heldKeys()).toEqual([]);
    // The lost lock left nothing behind in the store.
    expect(await app.get(LockService).isLocked('export')).toBe(false);
  });

  it('holding a key that is already held is the test setup failing loudly', async () => {
    await testing.holdBusy('twice');
    await expect(testing.holdBusy('twice')).rejects.toBeInstanceOf(LockNotAcquiredError);
  });
});
