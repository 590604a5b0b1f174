import { Controller, Post } from '@nestjs/common';
import { CleanupJob } from './cleanup.job';

@Controller('jobs')
export class JobsController {
  constructor(private readonly cleanup: CleanupJob) {}

  /** Fires the cleanup job twice at once, as two replicas' schedulers would: it runs once. */
  @Post('cleanup')
  async trigger() {
    const [first, second] = await Promise.all([this.cleanup.run(), this.cleanup.run()]);
    return { runs: [first, second].filter((result) => result === 'done').length };
  }
}
