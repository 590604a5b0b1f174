import { Controller, Param, Post } from '@nestjs/common';
import { LockService } from '../lib';

@Controller('inventory')
export class InventoryController {
  private readonly stock = new Map<string, number>();

  constructor(private readonly locks: LockService) {}

  /**
   * LockService used directly: the read-modify-write of the stock runs under the lock, and the
   * fence shows how a downstream write could reject a stale holder.
   */
  @Post(':sku/reserve')
  reserve(@Param('sku') sku: string) {
    return this.locks.withLock(
      `sku:${sku}`,
      async (lock) => {
        const left = this.stock.get(sku) ?? 10;
        if (left === 0) return { sku, reserved: false, left, fence: lock.fence };
        await new Promise((resolve) => setTimeout(resolve, 50));
        this.stock.set(sku, left - 1);
        return { sku, reserved: true, left: left - 1, fence: lock.fence };
      },
      { ttl: 5_000, wait: 2_000 },
    );
  }
}
