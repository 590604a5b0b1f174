import { randomUUID } from 'node:crypto';
import { Controller, Get, Post } from '@nestjs/common';
import { type LockInspection, LockService } from '../lib';
import { CleanupJob } from './cleanup.job';
import { INDEXER_ROLE, SearchIndexJob } from './search-index.job';

type TriggerResult = 'ran' | 'skipped';

@Controller('jobs')
export class JobsController {
  constructor(
    private readonly cleanup: CleanupJob,
    private readonly indexer: SearchIndexJob,
    private readonly locks: LockService,
  ) {}

  /**
   * Who leads the search indexer (inspect names the replica by its holderId), whether this
   * replica does, and the job's answer on this replica ('ran' only on the leader). Read-only: no
   * route here takes a lock from anyone (forceRelease is an operator's tool).
   */
  @Get('indexer')
  async indexerLeader(): Promise<{ role: LockInspection; leading: boolean; answer: string }> {
    const role = await this.locks.inspect(`leader:${INDEXER_ROLE}`);
    const leading = this.locks.leaderships().some((held) => held.name === INDEXER_ROLE);
    return { role, leading, answer: this.indexer.refresh() ?? 'not the leader' };
  }

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
