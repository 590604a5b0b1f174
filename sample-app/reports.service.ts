import { Injectable, Logger } from '@nestjs/common';
import { WithLock } from '../lib';

@Injectable()
export class ReportsService {
  private readonly logger = new Logger(ReportsService.name);
  private readonly built = new Map<string, number>();

  /**
   * A plain provider method under a lock keyed by its own argument: concurrent callers for one
   * report wait their turn (up to 5 s) instead of building it several times at once.
   */
  @WithLock((name: string) => `report:${name}`, { ttl: 5_000, wait: 5_000 })
  async build(name: string): Promise<{ report: string; builds: number }> {
    // Read, work, write: without the lock, concurrent builds would all read the same count.
    const builds = (this.built.get(name) ?? 0) + 1;
    this.logger.log(`Building report ${name} (build ${builds})`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    this.built.set(name, builds);
    return { report: name, builds };
  }
}
