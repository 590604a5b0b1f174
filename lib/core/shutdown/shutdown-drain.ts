import type { HeldLeases } from './held-leases';
import { runOutsideLockScope } from '../scope/lock-scope';
import type { WaitQueues } from '../waiting/wait-queues';

/**
 * running -> draining (shutdown began: holders keep their locks, acquisitions and waiting go on)
 * -> ended (the grace period is over, or nobody holds a lock at the last step: waiters fail, the
 * holders left lose their locks, no lock is handed out any more) -> closed (the store is closed).
 */
export type ServicePhase = 'running' | 'draining' | 'ended' | 'closed';

/**
 * One LockService's shutdown. Nest's HTTP server and queue workers finish their work after
 * shutdown begins, so work holding a lock keeps it, renewed, for up to the grace period; the
 * last step (after every other module's hooks) waits for the holders, within that period, then
 * ends the drain and closes the store.
 */
export class ShutdownDrain {
  phase: ServicePhase = 'running';
  private graceOver: Promise<void> | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private ending: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    /** The grace period (ms); 0 ends the drain as soon as it begins. */
    private readonly grace: number,
    private readonly held: HeldLeases,
    private readonly waitQueues: WaitQueues,
    private readonly closeStore: () => Promise<void>,
  ) {}

  /** Locks are handed out until the drain has ended. */
  get granting(): boolean {
    return this.phase === 'running' || this.phase === 'draining';
  }

  /** Shutdown begins: the grace period starts (not unref'd: a close() may be awaiting its end). */
  async begin(): Promise<void> {
    if (this.phase !== 'running') return;
    this.phase = 'draining';
    if (this.grace === 0) return this.end();
    this.graceOver = new Promise((resolve) => {
      this.graceTimer = runOutsideLockScope(() => setTimeout(() => resolve(this.end()), this.grace));
    });
  }

  /** The last step: holders finish (within the grace period), the drain ends, the store closes. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.begin();
      await Promise.race([this.held.drained(), this.graceOver]);
      await this.end();
      this.phase = 'closed';
      await this.closeStore();
    })();
    return this.closing;
  }

  /** Fails the waiters, takes the locks still held away (signal aborted, 'shutdown') and releases them. */
  private end(): Promise<void> {
    this.ending ??= (async () => {
      clearTimeout(this.graceTimer);
      this.phase = 'ended';
      this.waitQueues.closeAll();
      await this.held.loseAll();
    })();
    return this.ending;
  }
}
