import { LockError, LockLostError, LockNotAcquiredError } from '../errors';
import type { Lock } from '../lock';
import type { LockLogger } from '../lock-logger';
import {
  NOT_LEADER,
  LEADERSHIP_ELECTED,
  LEADERSHIP_RESIGNED,
  LEADERSHIP_RETRY,
  LEADERSHIP_STEPPED_DOWN,
} from '../lock.messages';
import { runOutsideLockScope } from '../scope/lock-scope';
import type { LeadershipTrace } from '../telemetry/lock-telemetry';
import { retryDelay } from '../utils/retry-delay';
import { sleepUnlessAborted } from './sleep-unless-aborted';

/** What a campaign needs from the engine. @internal */
export interface CampaignHost {
  /** Takes the leadership's lock, waiting until `signal` aborts. */
  take(signal: AbortSignal): Promise<Lock>;
  /** False once the engine stopped granting locks (the store is closing): campaigning ends. */
  isOpen(): boolean;
  readonly logger: LockLogger;
  elected(name: string, term: number): LeadershipTrace | undefined;
  /** The campaign ended (resigned, or the engine closed). */
  ended(leadership: Leadership): void;
}

/**
 * A role held continuously by one replica at a time, with failover: a lock on the role's name,
 * taken in the background, renewed while held, campaigned for again whenever it is lost.
 * `term` is the lock's fence, so it strictly increases from one leader to the next.
 */
export class Leadership {
  private lock: Lock | undefined;
  private termSignal: AbortController | undefined;
  private trace: LeadershipTrace | undefined;
  private readonly resigned = new AbortController();
  private readonly waiting = new Set<{ resolve: (term: number) => void; reject: (reason: unknown) => void }>();
  private readonly campaign: Promise<void>;

  /** @internal Leaderships come from LockService.campaign. */
  constructor(
    /** The role's name, as given to campaign(). */
    readonly name: string,
    private readonly host: CampaignHost,
  ) {
    // The campaign outlives any lock scope it was started from: it must never re-enter one.
    this.campaign = runOutsideLockScope(() => this.run());
  }

  /** True while this replica leads. */
  get isLeader(): boolean {
    return this.lock?.held === true;
  }

  /** This term's fence while leading (strictly increasing from one leader to the next), else undefined. */
  get term(): number | undefined {
    return this.isLeader ? this.lock!.fence : undefined;
  }

  /**
   * Aborts when this term ends (lost, resigned, shut down); already aborted while not leading.
   * Read it when work starts, and pass it on to that work.
   */
  get signal(): AbortSignal {
    if (this.isLeader) return this.termSignal!.signal;
    return AbortSignal.abort(
      this.resigned.signal.aborted ? this.resigned.signal.reason : new LockError(NOT_LEADER(this.name)),
    );
  }

  /** Resolves with the term once this replica leads (at once if it does); rejects if the campaign ends first. */
  elected(): Promise<number> {
    if (this.isLeader) return Promise.resolve(this.lock!.fence);
    if (this.resigned.signal.aborted) return Promise.reject(this.resigned.signal.reason);
    return new Promise((resolve, reject) => this.waiting.add({ resolve, reject }));
  }

  /** Steps down if leading (the lock is released: another replica leads at once) and ends the campaign. */
  async resign(): Promise<void> {
    if (!this.resigned.signal.aborted) this.resigned.abort(new LockError(LEADERSHIP_RESIGNED(this.name)));
    await this.campaign;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.resigned.signal.aborted && this.host.isOpen()) {
      let lock: Lock;
      try {
        lock = await this.host.take(this.resigned.signal);
        failures = 0;
      } catch (error) {
        if (this.resigned.signal.aborted || !this.host.isOpen() || error instanceof LockNotAcquiredError) continue;
        // One warning per outage: the campaign retries every half second at most while it lasts.
        const message = LEADERSHIP_RETRY(this.name, (error as Error)?.message ?? String(error));
        if (failures === 0) this.host.logger.warn(message);
        else this.host.logger.debug?.(message);
        await sleepUnlessAborted(retryDelay(failures++, Infinity), this.resigned.signal);
        continue;
      }
      await this.lead(lock);
      await lock.releaseQuietly();
    }
    if (!this.resigned.signal.aborted) this.resigned.abort(new LockError(LEADERSHIP_RESIGNED(this.name)));
    for (const waiter of this.waiting) waiter.reject(this.resigned.signal.reason);
    this.waiting.clear();
    this.host.ended(this);
  }

  /** Leads until the lock is lost or the campaign resigns; steps down at that very moment. */
  private lead(lock: Lock): Promise<void> {
    this.lock = lock;
    this.termSignal = new AbortController();
    this.trace = this.host.elected(this.name, lock.fence);
    this.host.logger.log(LEADERSHIP_ELECTED(this.name, lock.fence));
    for (const waiter of this.waiting) waiter.resolve(lock.fence);
    this.waiting.clear();
    return new Promise((resolve) => {
      const stepDown = () => {
        lock.signal.removeEventListener('abort', stepDown);
        this.resigned.signal.removeEventListener('abort', stepDown);
        const reason: unknown = lock.signal.aborted ? lock.signal.reason : this.resigned.signal.reason;
        const why = reason instanceof LockLostError ? reason.reason : 'resigned';
        this.lock = undefined;
        this.trace?.steppedDown(why);
        this.host.logger.log(LEADERSHIP_STEPPED_DOWN(this.name, lock.fence, why));
        this.termSignal!.abort(reason);
        resolve();
      };
      if (lock.signal.aborted || this.resigned.signal.aborted) return stepDown();
      lock.signal.addEventListener('abort', stepDown);
      this.resigned.signal.addEventListener('abort', stepDown);
    });
  }
}
