import type { LockLogger } from '../lock-logger';
import type { Lease } from '../lease/lease';
import { RELEASE_FAILED } from '../lock.messages';
import { InsertionList } from '../utils/insertion-list';

/**
 * The leases one LockService holds, for shutdown: a drain waits until none is left, and what
 * is still held when the drain ends is taken away (signal aborted with reason 'shutdown') and
 * released.
 */
export class HeldLeases {
  private readonly leases = new InsertionList<Lease>();
  private readonly emptied: (() => void)[] = [];

  constructor(private readonly logger: LockLogger) {}

  add(lease: Lease): void {
    this.leases.add(lease);
  }

  delete(lease: Lease): void {
    if (!this.leases.delete(lease) || this.leases.size > 0) return;
    for (const resolve of this.emptied.splice(0)) resolve();
  }

  /** The leases held now (a copy: losing one removes it from the set). */
  list(): Lease[] {
    return [...this.leases];
  }

  /** Resolves once no lease is held (at once if none is). */
  drained(): Promise<void> {
    if (this.leases.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push(resolve));
  }

  /** Takes away every lease still held and releases it (keeping minHold); a failed release is logged. */
  async loseAll(): Promise<void> {
    const leases = [...this.leases];
    for (const lease of leases) lease.lose('shutdown');
    await Promise.all(
      leases.map((lease) =>
        lease
          .release()
          .catch((error: unknown) => this.logger.warn(RELEASE_FAILED(lease.keys, (error as Error).message))),
      ),
    );
  }
}
