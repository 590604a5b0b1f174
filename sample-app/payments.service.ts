import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockService, WithLock } from '../lib';

@Injectable()
export class PaymentsService {
  constructor(private readonly locks: LockService) {}

  /**
   * Locks the order too, so it is safe to call from anywhere. Called from OrdersController.pay,
   * which already holds `order:<id>`, it re-enters: no wait, no Redis round trip.
   */
  @WithLock('order:{0}', { ttl: 10_000, wait: 0 })
  async charge(orderId: string): Promise<{ fence: number }> {
    const lock = this.locks.current(`order:${orderId}`)!;
    // The signal aborts if the lock is lost: the charge stops instead of running on unprotected.
    await sleep(1_000, undefined, { signal: lock.signal });
    // A payment provider would receive the fence and reject any write older than the last it saw.
    return { fence: lock.fence };
  }
}
