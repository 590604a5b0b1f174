import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { LeaderOnly } from '../lib';

/** The role's name: `inspect('leader:search-indexer')` names the replica that leads it. */
export const INDEXER_ROLE = 'search-indexer';

@Injectable()
export class SearchIndexJob {
  private readonly logger = new Logger(SearchIndexJob.name);
  runs = 0;

  /**
   * Every replica's scheduler fires every 10 s; only the leader of the role runs the job (the
   * others return undefined). A leader that shuts down hands the role over at once; one that
   * crashes, within 15 s.
   */
  @Interval('search-index', 10_000)
  @LeaderOnly(INDEXER_ROLE, { ttl: 15_000 })
  refresh(): 'ran' {
    this.runs++;
    this.logger.log('Refreshing the search index (leader only)');
    return 'ran';
  }
}
