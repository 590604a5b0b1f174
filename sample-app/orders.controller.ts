import { Controller, Param, Post } from '@nestjs/common';
import { WithLock } from '../lib';

@Controller('orders')
export class OrdersController {
  /**
   * One payment per order at a time, across every replica. A second request for the same order
   * while the first runs gets 409 at once (wait: 0); other orders are not blocked.
   */
  @Post(':id/pay')
  @WithLock('order:{id}', { ttl: 10_000, wait: 0 })
  async pay(@Param('id') id: string) {
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the charge
    return { order: id, status: 'paid' };
  }
}
