import { Module } from '@nestjs/common';
import { RedisLockModule } from '../lib';
import { FeedController } from './feed.controller';
import { InventoryController } from './inventory.controller';
import { lockStoreConfig } from './lock-store.config';
import { OrdersController } from './orders.controller';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

@Module({
  imports: [RedisLockModule.forRootAsync({ isGlobal: true, useFactory: () => lockStoreConfig() })],
  controllers: [OrdersController, ReportsController, InventoryController, FeedController],
  providers: [ReportsService],
})
export class AppModule {}
