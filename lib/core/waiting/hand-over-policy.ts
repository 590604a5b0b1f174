import type { LockKind, LockStore } from '../../stores/lock-store.interface';
import { FENCE_BLOCK, MAX_LOCAL_HAND_OVERS, MAX_UNCONTESTED_HAND_OVERS, OPTIMISTIC_HAND_OVER_MARGIN } from '../tuning';
import type { HandOverRun } from './hand-over-run';
import type { Releasing } from './releasing';
import type { Waiter } from './waiter';

/** How a release goes (see HandOverPolicy.route). */
export type ReleaseRoute =
  /** Through the store, which announces it to every process. */
  | 'release'
  /** Through the store because the run of local hand-overs reached its cap (see yieldsAfterCap). */
  | 'release-capped'
  /** Straight to the head waiter, which starts once the store confirmed it (one round trip). */
  | 'hand-over'
  /** Straight to the head waiter, which starts at once, inside the giver's lease (optimistic). */
  | 'hand-over-at-once';

/**
 * Whether a release of one lock kind passes the lock to the head waiter of this process, and how:
 * the fairness caps (waiters of other processes get their turn) and optimism (when the receiver
 * may start before the store confirms). Each lock kind has its own: a mutex has one holder, so a
 * release frees the whole lock for exactly one waiter.
 */
export interface HandOverPolicy {
  /**
   * The route of `releasing`'s lock, with `head` the first waiter of this process for its keys
   * and `now` performance.now().
   */
  route(
    releasing: Releasing,
    head: Waiter | undefined,
    store: Pick<LockStore, 'optimisticNow'>,
    now: number,
  ): ReleaseRoute;
  /** After 'release-capped': whether the head lets waiters of other processes try first. */
  yieldsAfterCap(releasing: Releasing): boolean;
  /**
   * A hand-over is being sent: the run it continues (a lock taken through the store starts one),
   * counted; an `optimistic` one spends a fence of the block the run's last grant reserved.
   */
  continueRun(releasing: Releasing, optimistic: boolean): HandOverRun;
  /**
   * A hand-over's reply: on who else listens (nobody restarts the local count, see
   * MAX_LOCAL_HAND_OVERS), and whether the store issued a fresh fence (with a fresh block).
   */
  answered(run: HandOverRun, othersWaiting: boolean | undefined, freshFence: boolean): void;
  /**
   * Whether the next head, behind a waiter that just took the lock, may find room at once (false:
   * it sleeps until the next release, its poll aside).
   */
  readonly roomBehindNewHolder: boolean;
}

/** One holder: a release either hands the lock to the head waiter or frees it through the store. */
export const MUTEX_HAND_OVER: HandOverPolicy = {
  route(releasing, head, store, now) {
    // Never to a waiter that no longer wants the lock or already has one in flight, nor to the
    // releasing token itself.
    if (!head || !head.active || head.busy || head.token === releasing.token) return 'release';
    // A waiter for another kind of lock on the key: the store decides whether it fits.
    if (head.request.kind !== releasing.kind) return 'release';
    const run = releasing.handOverRun;
    if (run && (run.local >= MAX_LOCAL_HAND_OVERS || run.sinceRedis >= MAX_UNCONTESTED_HAND_OVERS))
      return 'release-capped';
    // With enough of the giver's lease left, the receiver starts inside it while the store
    // confirms, with a fence of the block the run's last grant reserved, while one is left.
    const optimistic =
      store.optimisticNow(releasing.keys) &&
      (run?.spent ?? 0) < FENCE_BLOCK - 1 &&
      releasing.validUntil - now > OPTIMISTIC_HAND_OVER_MARGIN;
    return optimistic ? 'hand-over-at-once' : 'hand-over';
  },
  yieldsAfterCap(releasing) {
    // Only when the last reply said others listen: their attempts, woken by the release, go first.
    return releasing.handOverRun?.othersListen === true;
  },
  continueRun(releasing, optimistic) {
    const run = releasing.handOverRun ?? { local: 0, sinceRedis: 0, othersListen: false, spent: 0 };
    run.local++;
    run.sinceRedis++;
    if (optimistic) run.spent++;
    return run;
  },
  answered(run, othersWaiting, freshFence) {
    if (othersWaiting === false) run.local = 0;
    run.othersListen = othersWaiting === true;
    if (freshFence) run.spent = 0;
  },
  roomBehindNewHolder: false,
};

/**
 * Several holders (permits, readers): a release passes the giver's share to the head waiter of
 * this process when it waits for the same kind, in one store step that admits it as an attempt
 * would (a permit within the receiver's limit; a reader while no writer waits), so a share never
 * skips the store's rules. Never optimistic: the receiver's fence is not the giver's plus one.
 * The same fairness caps as the mutex let waiters of other processes in. Behind a waiter that
 * just took a share, the next may fit as well, so it tries at once.
 */
export const SHARED_HAND_OVER: HandOverPolicy = {
  route(releasing, head, store, now) {
    if (head && head.request.kind !== releasing.kind) return 'release';
    const route = MUTEX_HAND_OVER.route(releasing, head, store, now);
    return route === 'hand-over-at-once' ? 'hand-over' : route;
  },
  yieldsAfterCap: (releasing) => MUTEX_HAND_OVER.yieldsAfterCap(releasing),
  continueRun: (releasing) => MUTEX_HAND_OVER.continueRun(releasing, false),
  answered: (run, othersWaiting, freshFence) => MUTEX_HAND_OVER.answered(run, othersWaiting, freshFence),
  roomBehindNewHolder: true,
};

/** The hand-over policy of each lock kind. */
export const HAND_OVER_POLICIES: { readonly [kind in LockKind]: HandOverPolicy } = {
  mutex: MUTEX_HAND_OVER,
  permit: SHARED_HAND_OVER,
  read: SHARED_HAND_OVER,
};
