import { performance } from 'node:perf_hooks';
import type { LockStore } from '../../stores/lock-store.interface';
import { keySetId } from '../keys/key-set-id';
import type { Releasing } from '../lease/lease-context';
import { FENCE_BLOCK, MAX_LOCAL_HAND_OVERS, MAX_UNCONTESTED_HAND_OVERS, OPTIMISTIC_HAND_OVER_MARGIN } from '../tuning';
import type { HandOverRun } from './hand-over-run';
import type { Waiter } from './waiter';

interface Queue {
  readonly storeKeys: readonly string[];
  readonly waiters: Waiter[];
  /** Settles once release notifications for the keys are being received. */
  listening: Promise<() => void>;
}

/**
 * This process' waiters, in arrival order per set of keys. Only the head of a queue tries to
 * acquire (one attempt per release notification, no thundering herd); a newcomer queues behind
 * earlier waiters instead of jumping ahead; and a holder that releases while a waiter of this
 * process is queued hands the lock straight over in one round trip.
 */
export class WaitQueues {
  private readonly queues = new Map<string, Queue>();
  private closed = false;

  constructor(private readonly store: LockStore) {}

  /** True when callers of this process already wait for exactly these keys. */
  has(storeKeys: readonly string[]): boolean {
    // Nobody waiting in this process (the common case): no id to build.
    return this.queues.size > 0 && this.queues.has(keySetId(storeKeys));
  }

  /** Appends `waiter`; resolves once release notifications for the keys are being received. */
  async join(storeKeys: readonly string[], waiter: Waiter): Promise<void> {
    const id = keySetId(storeKeys);
    let queue = this.queues.get(id);
    if (!queue) {
      const created: Queue = { storeKeys, waiters: [], listening: Promise.resolve(() => undefined) };
      created.listening = this.store.onRelease(storeKeys, () => created.waiters[0]?.wake('released'));
      this.queues.set(id, (queue = created));
    }
    queue.waiters.push(waiter);
    try {
      await queue.listening;
    } catch (error) {
      this.leave(storeKeys, waiter, false);
      throw error;
    }
  }

  isHead(storeKeys: readonly string[], waiter: Waiter): boolean {
    return this.queues.get(keySetId(storeKeys))?.waiters[0] === waiter;
  }

  /** Removes `waiter`; the next one becomes head, told whether the lock was taken on the way. */
  leave(storeKeys: readonly string[], waiter: Waiter, acquired: boolean): void {
    waiter.active = false;
    // Handed a lock it leaves without (it gave up in the same turn, or its subscription failed):
    // let go of it, queued behind the hand-over itself, so the key is not left to its ttl.
    if (!acquired && waiter.handedOver) this.store.release(storeKeys, waiter.token).catch(() => undefined);
    const id = keySetId(storeKeys);
    const queue = this.queues.get(id);
    if (!queue) return;
    const index = queue.waiters.indexOf(waiter);
    if (index === -1) return;
    queue.waiters.splice(index, 1);
    if (queue.waiters.length === 0) {
      this.queues.delete(id);
      void queue.listening.then((stop) => stop(), () => undefined);
      return;
    }
    if (index === 0) queue.waiters[0]!.wake(acquired ? 'head-behind-holder' : 'head');
  }

  /**
   * Wakes every waiter for shutdown (they fail at once instead of sleeping out their wait); from
   * now on releases go to the store, never to a waiter.
   */
  closeAll(): void {
    this.closed = true;
    for (const queue of this.queues.values()) for (const waiter of [...queue.waiters]) waiter.wake('closed');
  }

  /**
   * Releases a lock: straight to the head waiter of this process when one is idle, otherwise
   * through the store, which announces the release to every process. With enough of the giver's
   * lease left, the hand-over is optimistic: the waiter starts at once, with the giver's fence plus
   * one, inside the giver's lease, and the store confirms (or refuses) it meanwhile. Otherwise it
   * waits for the store (one round trip, no window for anyone to barge in).
   */
  async release(releasing: Releasing): Promise<boolean> {
    const { storeKeys, token } = releasing;
    const queue = this.closed || this.queues.size === 0 ? undefined : this.queues.get(keySetId(storeKeys));
    const head = queue?.waiters[0];
    // The run of hand-overs this lease continues (see HandOverRun); capped, the release goes
    // through Redis, and whoever takes the lock next starts a new run.
    const run = releasing.handOverRun ?? { local: 0, sinceRedis: 0, othersListen: false, spent: 0 };
    // Never to a waiter that no longer wants the lock, nor to the releasing token itself.
    if (!head || !head.active || head.busy || head.token === token) return this.store.release(storeKeys, token);
    if (run.local >= MAX_LOCAL_HAND_OVERS || run.sinceRedis >= MAX_UNCONTESTED_HAND_OVERS) {
      // Through Redis for the waiters of other processes: when known to be there, theirs go first.
      head.yieldsNextRelease = run.othersListen;
      return this.store.release(storeKeys, token);
    }
    run.local++;
    run.sinceRedis++;
    const sentAt = performance.now();
    // Optimistic only with a reserved fence left for the receiver (see FENCE_BLOCK).
    const atOnce =
      this.store.optimisticHandOver !== false &&
      run.spent < FENCE_BLOCK - 1 &&
      releasing.validUntil - sentAt > OPTIMISTIC_HAND_OVER_MARGIN;
    if (atOnce) return this.handOverAtOnce(releasing, head, sentAt, run);
    head.busy = true;
    try {
      const { owned, fence, othersWaiting } = await this.store.handOver(storeKeys, token, head.token, head.ttl);
      this.counted(run, othersWaiting);
      if (fence !== null) run.spent = 0; // a fresh fence, with a fresh block
      if (fence !== null && !head.receive({ fence, sentAt, handOverRun: run })) {
        // The waiter gave up while the hand-over was in flight: nobody holds it, let it go.
        await this.store.release(storeKeys, head.token);
      }
      return owned;
    } finally {
      head.busy = false;
    }
  }

  private handOverAtOnce(
    { storeKeys, token, fence, validUntil }: Releasing,
    head: Waiter,
    sentAt: number,
    run: HandOverRun,
  ): Promise<boolean> {
    run.spent++;
    const result = this.store.handOver(storeKeys, token, head.token, head.ttl, fence, validUntil - sentAt);
    const confirmed = result.then((answer) => answer.fence !== null);
    confirmed.catch(() => undefined); // the receiver's lease reports it
    // The head is active and idle (checked above, in the same turn), so it takes the lock.
    head.receive({ fence: fence + 1, sentAt, provisional: { until: validUntil, confirmed }, handOverRun: run });
    return result.then((answer) => {
      this.counted(run, answer.othersWaiting);
      return answer.owned;
    });
  }

  /** A hand-over's reply on who else listens: nobody restarts the count (see MAX_LOCAL_HAND_OVERS). */
  private counted(run: HandOverRun, othersWaiting: boolean | undefined): void {
    if (othersWaiting === false) run.local = 0;
    run.othersListen = othersWaiting === true;
  }
}
