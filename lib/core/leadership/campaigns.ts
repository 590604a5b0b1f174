import type { LockLogger } from '../lock-logger';
import type { LockRequest, Locker } from '../locker';
import { loadTelemetry } from '../telemetry/load-telemetry';
import { type CampaignHost, Leadership } from './leadership';
import type { HeldLeadership } from './campaign-options.interface';

/**
 * The campaigns of one engine: each `start` is a Leadership of its own; `shared` is the one
 * campaign per name that @LeaderOnly methods ask. Shutdown resigns them all before holders
 * drain, so other replicas take over within a release notification. @internal
 */
export class Campaigns {
  private readonly running = new Set<Leadership>();
  private readonly byName = new Map<string, Leadership>();
  private readonly telemetry = loadTelemetry();
  /** Set once shutdown resigned every campaign: none starts after that. */
  private closing = false;

  constructor(
    private readonly locker: Locker,
    private readonly logger: LockLogger,
  ) {}

  start(name: string, request: LockRequest): Leadership {
    const host: CampaignHost = {
      take: (signal) => this.locker.take(request, { signal }),
      isOpen: () => !this.closing && this.locker.drain.granting,
      logger: this.logger,
      elected: (role, term) => this.telemetry.elected(role, term),
      ended: (leadership) => {
        this.running.delete(leadership);
        if (this.byName.get(leadership.name) === leadership) this.byName.delete(leadership.name);
      },
    };
    const leadership = new Leadership(name, host);
    this.running.add(leadership);
    return leadership;
  }

  /** The campaign for `name` that every @LeaderOnly method of that name shares, started on first ask. */
  shared(name: string, request: () => LockRequest): Leadership {
    let leadership = this.byName.get(name);
    if (!leadership) this.byName.set(name, (leadership = this.start(name, request())));
    return leadership;
  }

  /** The shared campaign for `name`, if one was started. */
  sharedIfStarted(name: string): Leadership | undefined {
    return this.byName.get(name);
  }

  /** What this replica leads now. */
  leading(): HeldLeadership[] {
    return [...this.running].flatMap((leadership) => {
      const term = leadership.term;
      return term === undefined ? [] : [{ name: leadership.name, term }];
    });
  }

  /** Resigns every campaign (the leaders' locks are released, so others take over at once). */
  async resignAll(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.running].map((leadership) => leadership.resign()));
  }
}
