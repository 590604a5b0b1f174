import { Injectable, Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  LockNotAcquiredError,
  LockService,
  LockStoreError,
  RedisLockModule,
  type RedisLockModuleOptions,
  WithLock,
} from '../../lib';
import { loadTelemetry } from '../../lib/core/telemetry/load-telemetry';
import { RedisServer } from '../support/redis-server';
import { sleep, waitFor } from '../support/wait-for';

@Injectable()
class Orders {
  @WithLock('order:{0}', { wait: 0 })
  async pay(id: number, until?: Promise<void>): Promise<number> {
    await until;
    return id;
  }

  @WithLock('nightly', { wait: 0, onBusy: 'skip' })
  async nightly(until: Promise<void>): Promise<string> {
    await until;
    return 'ran';
  }

  @WithLock((id: string) => `invoice:${id}`, { wait: 0 })
  async invoice(id: string): Promise<string> {
    return id;
  }
}

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 600_000 });
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const meterProvider = new MeterProvider({ readers: [reader] });

async function app(
  options: RedisLockModuleOptions = {},
): Promise<{ module: TestingModule; locks: LockService; orders: Orders }> {
  const module = await Test.createTestingModule({
    imports: [RedisLockModule.forRoot({ store: 'memory', ...options })],
    providers: [Orders],
  }).compile();
  await module.init();
  return { module, locks: module.get(LockService), orders: module.get(Orders) };
}

/** The data points of one metric, as exported so far (cumulative). */
async function points(name: string): Promise<DataPoint<number | Histogram>[]> {
  metricExporter.reset();
  await reader.forceFlush();
  const all = metricExporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  return all.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as DataPoint<number | Histogram>[]);
}

function acquireSpans(): ReadableSpan[] {
  return spans.getFinishedSpans().filter((span) => span.name === 'lock.acquire');
}

function released(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

describe('OpenTelemetry', () => {
  it('bad names and telemetry options are argument errors naming them', async () => {
    const { module, locks } = await app();
    try {
      await expect(locks.acquire('k', { name: '' })).rejects.toMatchObject({ argument: 'options.name' });
      await expect(app({ telemetry: { keyAsName: 'yes' as never } })).rejects.toMatchObject({
        argument: 'options.telemetry.keyAsName',
      });
    } finally {
      await module.close();
    }
  });

  it('records nothing, and allocates no trace, while no SDK is registered', () => {
    expect(loadTelemetry().acquireStarted('order:{0}', 'mutex')).toBeUndefined();
  });

  it('a tracer that throws makes acquire reject with its error, never throw', async () => {
    const { module, locks } = await app();
    const failure = new Error('tracer broke');
    const broken = {
      startSpan: () => {
        throw failure;
      },
    };
    trace.setGlobalTracerProvider({ getTracer: () => broken } as never);
    try {
      let pending: Promise<unknown> | undefined;
      expect(() => (pending = locks.acquire('k'))).not.toThrow();
      await expect(pending).rejects.toBe(failure);
    } finally {
      trace.disable();
      await module.close();
    }
  });

  describe('with an SDK registered', () => {
    let ctx: Awaited<ReturnType<typeof app>>;

    beforeAll(async () => {
      trace.setGlobalTracerProvider(tracerProvider);
      metrics.setGlobalMeterProvider(meterProvider);
      ctx = await app();
    });
    afterEach(() => spans.reset());
    afterAll(async () => {
      await ctx.module.close();
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      trace.disable();
      metrics.disable();
    });

    it('a span per acquisition named by the key template, with outcome, waited time and fence, never key or token', async () => {
      const { promise, release } = released();
      const paying = ctx.orders.pay(123, promise);
      await waitFor(() => acquireSpans().length === 1);
      const lock = await ctx.locks.acquire('order:123', { wait: 0, name: 'order' }).catch((error: unknown) => error);
      expect(lock).toBeInstanceOf(LockNotAcquiredError);
      release();
      await paying;

      const [acquired, busy] = acquireSpans();
      expect(acquired!.attributes).toMatchObject({ 'lock.name': 'order:{0}', 'lock.outcome': 'acquired' });
      expect(acquired!.attributes['lock.fence']).toBeGreaterThan(0);
      expect(acquired!.attributes['lock.waited']).toBeGreaterThanOrEqual(0);
      expect(busy!.attributes).toMatchObject({ 'lock.name': 'order', 'lock.outcome': 'busy' });
      // Busy is an expected answer, not an error.
      expect(busy!.status.code).not.toBe(2);
      const held = await ctx.locks.acquire('order:123', { name: 'order' });
      await held.release();
      // Only string attributes can carry a key or token; numbers (fence, waited seconds) may hold
      // any digits, so they are left out of the check.
      const texts = acquireSpans()
        .flatMap((span) => Object.values(span.attributes))
        .filter((value): value is string => typeof value === 'string');
      expect(texts.length).toBeGreaterThan(0);
      for (const text of texts) {
        expect(text).not.toContain('123');
        expect(text).not.toContain(held.token);
      }
    });

    it('a key factory is named by its method; LockService calls without a name are unnamed', async () => {
      await ctx.orders.invoice('A-1');
      await ctx.locks.withLock('sku:42', () => undefined);
      expect(acquireSpans().map((span) => span.attributes['lock.name'])).toEqual(['Orders.invoice', 'unnamed']);
    });

    it("skipped (onBusy 'skip') and aborted outcomes", async () => {
      const { promise, release } = released();
      const first = ctx.orders.nightly(promise);
      await waitFor(() => acquireSpans().length === 1);
      await expect(ctx.orders.nightly(Promise.resolve())).resolves.toBeUndefined();
      const aborter = new AbortController();
      const waiting = ctx.locks.acquire('nightly', { wait: 10_000, name: 'nightly', signal: aborter.signal });
      await sleep(20);
      aborter.abort(new Error('gave up'));
      await expect(waiting).rejects.toThrow('gave up');
      release();
      await first;
      expect(acquireSpans().map((span) => span.attributes['lock.outcome'])).toEqual(['acquired', 'skipped', 'aborted']);
    });

    it('lock.acquire.duration and lock.hold.duration in seconds, lock.active back to 0, lock.lost by reason', async () => {
      const warnings = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const lock = await ctx.locks.acquire('report', { name: 'report', ttl: 50, autoRenew: false });
      expect(await points('lock.active')).toContainEqual(
        expect.objectContaining({ attributes: { 'lock.name': 'report', 'lock.kind': 'mutex' }, value: 1 }),
      );
      await waitFor(() => !lock.held, 5_000);
      await lock.release();
      // The loss is logged, without the token.
      expect(warnings.mock.calls.flat().join(' ')).toContain('report');
      expect(warnings.mock.calls.flat().join(' ')).not.toContain(lock.token);
      warnings.mockRestore();

      const acquire = await points('lock.acquire.duration');
      const report = acquire.find((p) => p.attributes['lock.name'] === 'report')!;
      expect(report.attributes).toEqual({ 'lock.name': 'report', 'lock.kind': 'mutex', 'lock.outcome': 'acquired' });
      expect((report.value as Histogram).count).toBe(1);
      const hold = (await points('lock.hold.duration')).find((p) => p.attributes['lock.name'] === 'report')!;
      // Held about 50 ms before the lease expired: seconds, not milliseconds.
      expect((hold.value as Histogram).sum).toBeGreaterThan(0.01);
      expect((hold.value as Histogram).sum).toBeLessThan(5);
      expect(await points('lock.active')).toContainEqual(
        expect.objectContaining({ attributes: { 'lock.name': 'report', 'lock.kind': 'mutex' }, value: 0 }),
      );
      expect(await points('lock.lost')).toContainEqual(
        expect.objectContaining({
          attributes: { 'lock.name': 'report', 'lock.kind': 'mutex', 'lock.lost.reason': 'expired' },
          value: 1,
        }),
      );
    });

    it('spans and metrics carry the kind: a permit, a reader and a writer (mutex) are told apart', async () => {
      const permit = await ctx.locks.acquire('kinds', { name: 'kinds', limit: 2 });
      const reader = await ctx.locks.acquire('kinds:doc', { name: 'kinds', mode: 'read' });
      expect(await points('lock.active')).toContainEqual(
        expect.objectContaining({ attributes: { 'lock.name': 'kinds', 'lock.kind': 'permit' }, value: 1 }),
      );
      expect(await points('lock.active')).toContainEqual(
        expect.objectContaining({ attributes: { 'lock.name': 'kinds', 'lock.kind': 'read' }, value: 1 }),
      );
      await permit.release();
      await reader.release();
      await ctx.locks.withLock('kinds:doc', () => undefined, { name: 'kinds', mode: 'write' });
      expect(acquireSpans().map((span) => span.attributes['lock.kind'])).toEqual(['permit', 'read', 'mutex']);
    });

    it('a leadership: lock.leaderships counts it while held, a lock.leadership span has elected and stepped-down events', async () => {
      const leadership = ctx.locks.campaign('reports');
      const term = await leadership.elected();
      expect(await points('lock.leaderships')).toContainEqual(
        expect.objectContaining({ attributes: { 'lock.name': 'reports' }, value: 1 }),
      );
      await leadership.resign();
      expect(await points('lock.leaderships')).toContainEqual(
        expect.objectContaining({ attributes: { 'lock.name': 'reports' }, value: 0 }),
      );
      const [span] = spans.getFinishedSpans().filter((finished) => finished.name === 'lock.leadership');
      expect(span!.attributes).toEqual({ 'lock.name': 'reports', 'lock.term': term });
      expect(span!.events.map((event) => event.name)).toEqual(['lock.elected', 'lock.stepped_down']);
      expect(span!.events[1]!.attributes).toEqual({ 'lock.leadership.reason': 'resigned' });
    });

    it('both duration histograms carry bucket boundaries for lock latencies, from a millisecond to a minute', async () => {
      await ctx.locks.withLock('buckets', () => undefined, { name: 'buckets' });
      for (const name of ['lock.acquire.duration', 'lock.hold.duration']) {
        const point = (await points(name)).find((p) => p.attributes['lock.name'] === 'buckets')!;
        const { boundaries } = (point.value as Histogram).buckets;
        expect(boundaries[0]).toBe(0.001);
        expect(boundaries).toContain(0.1);
        expect(boundaries).toContain(1);
        expect(boundaries.at(-1)).toBe(60);
      }
    });

    it('the resolved key becomes lock.name only when the module opts in', async () => {
      const opted = await app({ telemetry: { keyAsName: true } });
      try {
        await opted.orders.pay(7);
        expect(acquireSpans()[0]!.attributes['lock.name']).toBe('order:7');
      } finally {
        await opted.module.close();
      }
    });

    it('Redis out of reach: the span says unavailable, with an error status', async () => {
      const server = await RedisServer.start();
      const logger = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const redis = await app({ store: 'redis', redis: server.url, storeTimeout: 300 });
      try {
        await server.kill();
        await expect(redis.locks.acquire('down', { name: 'down', wait: 0 })).rejects.toBeInstanceOf(LockStoreError);
        const [span] = acquireSpans();
        expect(span!.attributes['lock.outcome']).toBe('unavailable');
        expect(span!.status.code).toBe(2);
      } finally {
        await redis.module.close();
        await server.stop();
        logger.mockRestore();
      }
    }, 20_000);
  });
});
