import { Controller, Get, Post } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WithLock } from '../../../lib';
import { CapturedLogger } from '../../support/captured-logger';
import { ADAPTERS, startHttpApp } from '../../support/http-app';

@Controller('jobs')
class JobsController {
  @Post('rebuild')
  @WithLock('rebuild', { wait: 0, onBusy: 'skip' })
  rebuild() {
    return { rebuilt: true };
  }

  @Get('report')
  @WithLock('report', { wait: 0, onBusy: 'skip' })
  report() {
    return { report: true };
  }
}

describe.each(ADAPTERS)("a route skipped by onBusy 'skip' (%s)", (adapter) => {
  let started: Awaited<ReturnType<typeof startHttpApp>>;
  const logger = new CapturedLogger();

  beforeAll(async () => {
    started = await startHttpApp(adapter, { store: 'memory' }, { controllers: [JobsController] }, logger);
  });
  afterAll(() => started?.app.close());

  it('answers 204 No Content with no body while the lock is busy, and its own status once it is free', async () => {
    for (const [method, path, key, status, body] of [
      ['POST', '/jobs/rebuild', 'rebuild', 201, { rebuilt: true }],
      ['GET', '/jobs/report', 'report', 200, { report: true }],
    ] as const) {
      const held = await started.locks.acquire(key);
      const skipped = await fetch(`${started.url}${path}`, { method });
      expect(skipped.status).toBe(204);
      expect(await skipped.text()).toBe('');
      await held.release();
      const ran = await fetch(`${started.url}${path}`, { method });
      expect(ran.status).toBe(status);
      expect(await ran.json()).toEqual(body);
    }
    // A skip is an expected answer: nothing logged as an error.
    expect(logger.texts('error')).toEqual([]);
  });
});
