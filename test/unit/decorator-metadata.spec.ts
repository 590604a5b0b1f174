import { Controller, Get, Injectable, Logger, Param, Post, Scope } from '@nestjs/common';
import { ContextIdFactory } from '@nestjs/core';
import { ApiOperation, ApiTags, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { describe, expect, it, vi } from 'vitest';
import { Cron, CronExpression, Interval, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { LeaderOnly, LockService, RedisLockModule, WithLock } from '../../lib';

@Injectable()
class ScheduledJobs {
  runs = 0;

  @Cron(CronExpression.EVERY_HOUR, { name: 'hourly' })
  @LeaderOnly('scheduled-jobs')
  hourly() {
    return ++this.runs;
  }

  @LeaderOnly('scheduled-jobs')
  @Interval('every-hour', 3_600_000)
  interval() {
    return ++this.runs;
  }
}

@ApiTags('orders')
@Controller('orders')
class DocumentedController {
  @ApiOperation({ summary: 'Pay an order' })
  @WithLock('order:{id}')
  @Post(':id/pay')
  pay(@Param('id') id: string) {
    return id;
  }

  @Get(':id')
  @WithLock('order:{id}')
  @ApiOperation({ summary: 'Read an order' })
  read(@Param('id') id: string) {
    return id;
  }
}

@Injectable({ scope: Scope.REQUEST })
class PerRequestService {
  @WithLock('per-request:{0}', { wait: 0 })
  async run(name: string): Promise<boolean> {
    return this.locks.isLocked(`per-request:${name}`);
  }

  constructor(private readonly locks: LockService) {}
}

describe('@WithLock and other decorators', () => {
  it('keeps Swagger operations, tags and route params on either side of @WithLock', async () => {
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRoot({ store: 'memory' })],
      controllers: [DocumentedController],
    }).compile();
    const app = module.createNestApplication({ logger: false });
    await app.init();
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    const pay = document.paths['/orders/{id}/pay']?.post;
    const read = document.paths['/orders/{id}']?.get;
    expect(pay?.summary).toBe('Pay an order');
    expect(read?.summary).toBe('Read an order');
    expect(pay?.tags).toEqual(['orders']);
    expect(pay?.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path' })]);
    expect(read?.operationId).toContain('read');
    await app.close();
  });

  it('request-scoped providers are warned about and still run under the lock', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const module = await Test.createTestingModule({
        imports: [RedisLockModule.forRoot({ store: 'memory' })],
        providers: [PerRequestService],
      }).compile();
      await module.init();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('PerRequestService is not a singleton'));
      const service = await module.resolve(PerRequestService, ContextIdFactory.create());
      await expect(service.run('a')).resolves.toBe(true);
      await module.close();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('@LeaderOnly and the scheduler', () => {
  it('keeps @Cron and @Interval on either side of @LeaderOnly; the one replica (memory store) leads and runs', async () => {
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRoot({ store: 'memory' }), ScheduleModule.forRoot()],
      providers: [ScheduledJobs],
    }).compile();
    await module.init();
    const registry = module.get(SchedulerRegistry);
    expect(registry.getCronJob('hourly')).toBeDefined();
    expect(registry.getInterval('every-hour')).toBeDefined();
    const locks = module.get(LockService);
    const jobs = module.get(ScheduledJobs);
    await vi.waitFor(() => expect(locks.leaderships().map((held) => held.name)).toEqual(['scheduled-jobs']));
    expect(jobs.hourly()).toBe(1);
    expect(jobs.interval()).toBe(2);
    await module.close();
  });
});
