/** Options of `LockService.campaign` and `@LeaderOnly`. */
export interface CampaignOptions {
  /**
   * The leader's lease in ms, renewed about every ttl/3 while it leads: how long a crashed
   * leader's role stays vacant at most. Default: the module's ttl.
   */
  ttl?: number;
}

/** A leadership this replica holds now, as `LockService.leaderships()` and health report it. */
export interface HeldLeadership {
  readonly name: string;
  readonly term: number;
}
