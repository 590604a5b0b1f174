import { Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { WithLock } from '../lib';

@Injectable()
export class CleanupJob {
  private readonly logger = new Logger(CleanupJob.name);

  /** Every 30 s each replica's scheduler fires the tick it is in: the first runs it, the rest skip. */
  @Cron(CronExpression.EVERY_30_SECONDS, { name: 'cleanup' })
  async onSchedule(now = Date.now()): Promise<void> {
    await this.run(`cron-${Math.floor(now / 30_000)}`);
  }

  /**
   * Runs once per tick across replicas: the lock is per tick (`cleanup:{tick}`), the first
   * trigger takes it and the rest skip (wait: 0, onBusy: 'skip'); minHold keeps it 25 s although
   * the job takes 100 ms, so a replica whose scheduler fires a little late skips that tick too.
   * Resolves 'ran', or undefined when skipped.
   */
  @WithLock('cleanup:{0}', { wait: 0, onBusy: 'skip', minHold: 25_000 })
  async run(tick: string): Promise<'ran' | undefined> {
    this.logger.log(`Cleaning up (tick ${tick})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return 'ran';
  }
}
