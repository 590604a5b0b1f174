import { Injectable, SetMetadata } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { Observable, interval, map, take } from 'rxjs';
import { WithLock } from '../../lib';
import { ExclusionProbe } from './exclusion-probe';

export const JOB_NAME = 'nightly-report';

export const calls = {
  log: [] as string[],
  /** The exclusion probe of `charge`: its count is the sum charged. */
  probe: new ExclusionProbe(),
};

export function resetCalls(): void {
  calls.log = [];
  calls.probe.reset();
}

@Injectable()
export class BillingService {
  @WithLock((invoiceId: string) => `invoice:${invoiceId}`, { wait: 20_000 })
  async charge(invoiceId: string, amount: number): Promise<string> {
    await calls.probe.increment(amount);
    return `${invoiceId}:${amount}`;
  }

  @WithLock('invoice:{0.id}', { wait: 0 })
  async hold(invoice: { id: string }, until: Promise<void>): Promise<void> {
    calls.log.push(`hold:${invoice.id}`);
    await until;
  }

  @WithLock('sync-total', 500)
  total(a: number, b: number): number {
    return a + b;
  }

  @WithLock('fails', { wait: 0 })
  async fail(): Promise<never> {
    throw new Error('payment declined');
  }

  @WithLock('feed:{0}', { wait: 0 })
  feed(name: string): Observable<string> {
    calls.log.push(`feed:${name}`);
    return interval(20).pipe(
      take(5),
      map((i) => `${name}-${i}`),
    );
  }

  @WithLock('undeclared', { wait: 0 })
  undeclared() {
    return interval(10).pipe(take(1));
  }

  // @WithLock above @Cron and below SetMetadata: both must still be seen by their readers.
  @SetMetadata('audited', true)
  @WithLock('nightly-report', { wait: 0 })
  @Cron('0 0 3 * * *', { name: JOB_NAME })
  async nightlyReport(): Promise<void> {
    calls.log.push('report:start');
    await new Promise((resolve) => setTimeout(resolve, 200));
    calls.log.push('report:end');
  }
}
