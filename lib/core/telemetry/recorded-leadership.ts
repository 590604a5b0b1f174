import type { Span, Tracer, UpDownCounter } from '@opentelemetry/api';
import type { LeadershipTrace } from './lock-telemetry';

/**
 * One term of a leadership: counted in `lock.leaderships` while it lasts, and a `lock.leadership`
 * span from election to step down, with an event at each end. @internal
 */
export class RecordedLeadership implements LeadershipTrace {
  private readonly span: Span | undefined;
  private ended = false;

  constructor(
    private readonly name: string,
    term: number,
    tracer: Tracer | undefined,
    private readonly gauge: UpDownCounter | undefined,
  ) {
    const attributes = { 'lock.name': name, 'lock.term': term };
    this.span = tracer?.startSpan('lock.leadership', { attributes });
    this.span?.addEvent('lock.elected', attributes);
    gauge?.add(1, { 'lock.name': name });
  }

  steppedDown(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.gauge?.add(-1, { 'lock.name': this.name });
    this.span?.addEvent('lock.stepped_down', { 'lock.leadership.reason': reason });
    this.span?.end();
  }
}
