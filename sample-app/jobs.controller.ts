import { randomUUID } from 'node:crypto';
import { Controller, Post } from '@nestjs/common';
import { CleanupJob } from './cleanup.job';

type TriggerResult = 'ran' | 'skipped';

@Controller('jobs')
export class JobsController {
  constructor(private readonly cleanup: CleanupJob) {}

  /**
   * A scripted tick of the cleanup job, the same answer every time: two replicas' schedulers fire
   * a fresh tick at once (one runs, one skips), then a late replica fires it after the run ended
   * (skipped: minHold still holds the tick's lock).
   */
  @Post('cleanup')
  async trigger(): Promise<{ tick: string; replicas: TriggerResult[]; late: TriggerResult; runs: number }> {
    const tick = `demo-${randomUUID().slice(0, 8)}`;
    const replicas = (await Promise.all([this.cleanup.run(tick), this.cleanup.run(tick)])).map(outcome).sort();
    const late = outcome(await this.cleanup.run(tick));
    const runs = [...replicas, late].filter((result) => result === 'ran').length;
    return { tick, replicas, late, runs };
  }
}

function outcome(result: 'ran' | undefined): TriggerResult {
  return result ?? 'skipped';
}
