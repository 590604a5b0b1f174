import type {
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  Span,
  Tracer,
  TracerProvider,
  UpDownCounter,
} from '@opentelemetry/api';
import type { LockLostReason } from '../errors';
import type { LockKind } from '../../stores/lock-store.interface';
import { LOCK_LATENCY_BUCKETS } from './latency-buckets';
import type { AcquireOutcome, AcquireTrace, HeldLeaseView, LeadershipTrace, LockTelemetry } from './lock-telemetry';
import { RecordedLeadership } from './recorded-leadership';

/** The parts of `@opentelemetry/api` used here. @internal */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

const SCOPE = 'nestjs-redis-lock';

/** The instruments of one registered MeterProvider. */
interface Instruments {
  readonly acquireDuration: Histogram;
  readonly holdDuration: Histogram;
  readonly active: UpDownCounter;
  readonly lost: Counter;
  readonly leaderships: UpDownCounter;
}

/**
 * Telemetry through the global OpenTelemetry API: whatever SDK the application registered
 * (a TracerProvider, a MeterProvider, or both) receives a span per acquisition and the lock
 * metrics. Checks per event whether one is registered, so one registered after the module started
 * still records, and nothing is allocated while none is. @internal
 */
export class OpenTelemetry implements LockTelemetry {
  /** The API's own no-op providers: what "nothing registered" looks like. */
  private readonly noopTracerProvider: TracerProvider;
  private readonly noopMeter: Meter;
  private tracerProvider: TracerProvider | undefined;
  private tracer: Tracer | undefined;
  private meterProvider: MeterProvider | undefined;
  private instruments: Instruments | undefined;
  /** Leases counted in `lock.active` and when (ms): a lease held before an SDK was registered is not. */
  private readonly holding = new WeakMap<HeldLeaseView, number>();

  constructor(private readonly api: OpenTelemetryApi) {
    this.noopTracerProvider = new api.ProxyTracerProvider().getDelegate();
    this.noopMeter = api.createNoopMeter();
  }

  acquireStarted(name: string, kind: LockKind): AcquireTrace | undefined {
    const tracer = this.currentTracer();
    const instruments = this.currentInstruments();
    if (!tracer && !instruments) return undefined;
    const span = tracer?.startSpan('lock.acquire', {
      kind: this.api.SpanKind.INTERNAL,
      attributes: { 'lock.name': name, 'lock.kind': kind },
    });
    return new RecordedAcquire(this.api, name, kind, span, instruments);
  }

  holdStarted(lease: HeldLeaseView): void {
    const instruments = this.currentInstruments();
    if (!instruments) return;
    this.holding.set(lease, performance.now());
    instruments.active.add(1, { 'lock.name': lease.name, 'lock.kind': lease.kind });
  }

  holdEnded(lease: HeldLeaseView): void {
    const since = this.holding.get(lease);
    if (since === undefined) return;
    this.holding.delete(lease);
    const instruments = this.currentInstruments();
    if (!instruments) return;
    const attributes = { 'lock.name': lease.name, 'lock.kind': lease.kind };
    instruments.active.add(-1, attributes);
    instruments.holdDuration.record((performance.now() - since) / 1000, attributes);
  }

  lost(lease: HeldLeaseView, reason: LockLostReason): void {
    this.currentInstruments()?.lost.add(1, {
      'lock.name': lease.name,
      'lock.kind': lease.kind,
      'lock.lost.reason': reason,
    });
  }

  elected(name: string, term: number): LeadershipTrace | undefined {
    const tracer = this.currentTracer();
    const instruments = this.currentInstruments();
    if (!tracer && !instruments) return undefined;
    return new RecordedLeadership(name, term, tracer, instruments?.leaderships);
  }

  /** The tracer of the registered TracerProvider, or undefined while none is registered. */
  private currentTracer(): Tracer | undefined {
    const provider = this.api.trace.getTracerProvider();
    const delegate = provider instanceof this.api.ProxyTracerProvider ? provider.getDelegate() : provider;
    if (delegate === this.noopTracerProvider) return undefined;
    if (delegate !== this.tracerProvider) {
      this.tracerProvider = delegate;
      this.tracer = delegate.getTracer(SCOPE);
    }
    return this.tracer;
  }

  /** The instruments of the registered MeterProvider, or undefined while none is registered. */
  private currentInstruments(): Instruments | undefined {
    const provider = this.api.metrics.getMeterProvider();
    if (provider !== this.meterProvider) {
      this.meterProvider = provider;
      const meter = provider.getMeter(SCOPE);
      this.instruments = meter === this.noopMeter ? undefined : createInstruments(meter);
    }
    return this.instruments;
  }
}

/** One acquisition being recorded: ends its span and records its duration once. */
class RecordedAcquire implements AcquireTrace {
  readonly startedAt = performance.now();

  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly name: string,
    private readonly kind: LockKind,
    private readonly span: Span | undefined,
    private readonly instruments: Instruments | undefined,
  ) {}

  end(outcome: AcquireOutcome, { fence, reentered }: { fence?: number; reentered?: boolean }): void {
    const waited = (performance.now() - this.startedAt) / 1000;
    this.instruments?.acquireDuration.record(waited, {
      'lock.name': this.name,
      'lock.kind': this.kind,
      'lock.outcome': outcome,
    });
    const span = this.span;
    if (!span) return;
    span.setAttribute('lock.outcome', outcome);
    span.setAttribute('lock.waited', waited);
    if (fence !== undefined) span.setAttribute('lock.fence', fence);
    if (reentered) span.setAttribute('lock.reentered', true);
    // Busy and skipped are expected answers, not failures of the lock.
    if (outcome === 'unavailable' || outcome === 'error') {
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: outcome });
    }
    span.end();
  }
}

function createInstruments(meter: Meter): Instruments {
  // Advice needs @opentelemetry/api 1.7+; older APIs ignore the field and keep the SDK's defaults.
  const advice = { explicitBucketBoundaries: [...LOCK_LATENCY_BUCKETS] };
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description, advice });
  return {
    acquireDuration: seconds(
      'lock.acquire.duration',
      'Time from asking for a lock to the answer, by lock.name and lock.outcome.',
    ),
    holdDuration: seconds('lock.hold.duration', 'Time a lock was held, from acquisition to release or loss.'),
    active: meter.createUpDownCounter('lock.active', { unit: '{lock}', description: 'Locks this process holds now.' }),
    lost: meter.createCounter('lock.lost', {
      unit: '{lock}',
      description: 'Held locks that were lost, by lock.lost.reason.',
    }),
    leaderships: meter.createUpDownCounter('lock.leaderships', {
      unit: '{leadership}',
      description: 'Leaderships this process holds now, by lock.name (the campaign name).',
    }),
  };
}
