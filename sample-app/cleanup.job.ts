import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { WithLock } from '../lib';

@Injectable()
export class CleanupJob {
  private readonly logger = new Logger(CleanupJob.name);

  /**
   * Run once per tick across replicas: every replica's scheduler fires, the first takes the lock
   * and the rest skip (wait: 0, onBusy: 'skip'); minHold keeps the lock for 25 s even though the
   * job takes 100 ms, so a replica whose clock or scheduler is a little late skips this tick too.
   */
  @Cron(CronExpression.EVERY_30_SECONDS, { name: 'cleanup' })
  @WithLock('cleanup', { wait: 0, onBusy: 'skip', minHold: 25_000 })
  async run(): Promise<'done'> {
    this.logger.log('Cleaning up');
    await new Promise((resolve) => setTimeout(resolve, 100));
    return 'done';
  }
}
