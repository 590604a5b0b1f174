import { Controller, Param, Post } from '@nestjs/common';
import { CurrentLock, type Lock, WithLock } from '../lib';
import { PaymentsService } from './payments.service';

@Controller('orders')
export class OrdersController {
  constructor(private readonly payments: PaymentsService) {}

  /**
   * One payment per order at a time, across every replica. A second request for the same order
   * while the first runs gets 409 at once (wait: 0); other orders are not blocked.
   */
  @Post(':id/pay')
  @WithLock('order:{id}', { ttl: 10_000, wait: 0 })
  async pay(@Param('id') id: string, @CurrentLock() lock: Lock) {
    const { fence } = await this.payments.charge(id);
    return { order: id, status: 'paid', fence, sameLock: fence === lock.fence };
  }
}
