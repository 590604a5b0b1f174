import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { RedisLockModule } from '../lib';
import { CleanupJob } from './cleanup.job';
import { FeedController } from './feed.controller';
import { InventoryController } from './inventory.controller';
import { JobsController } from './jobs.controller';
import { lockStoreConfig } from './lock-store.config';
import { OrdersController } from './orders.controller';
import { PaymentsService } from './payments.service';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';
import { SearchIndexJob } from './search-index.job';

@Module({
  imports: [
    RedisLockModule.forRootAsync({ isGlobal: true, useFactory: () => lockStoreConfig() }),
    ScheduleModule.forRoot(),
  ],
  controllers: [OrdersController, ReportsController, InventoryController, FeedController, JobsController],
  providers: [ReportsService, PaymentsService, CleanupJob, SearchIndexJob],
})
export class AppModule {}
