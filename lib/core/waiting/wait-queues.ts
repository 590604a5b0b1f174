import type { LockStore } from '../../stores/lock-store.interface';
import { keySetId } from '../keys/key-set-id';
import { HAND_OVER_POLICIES, type HandOverPolicy } from './hand-over-policy';
import type { Releasing } from './releasing';
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
 * process is queued may hand the lock straight over (see releaseOrHandOver).
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

  /**
   * Appends `waiter` at once; the promise settles once release notifications for the keys are
   * being received (or rejects, when they cannot be: the caller then leaves the queue).
   */
  join(storeKeys: readonly string[], waiter: Waiter): Promise<void> {
    const id = keySetId(storeKeys);
    let queue = this.queues.get(id);
    if (!queue) {
      const created: Queue = { storeKeys, waiters: [], listening: Promise.resolve(() => undefined) };
      created.listening = this.store.onRelease(storeKeys, () => created.waiters[0]?.wake('released'));
      this.queues.set(id, (queue = created));
    }
    queue.waiters.push(waiter);
    return queue.listening.then(() => undefined);
  }

  isHead(storeKeys: readonly string[], waiter: Waiter): boolean {
    return this.queues.get(keySetId(storeKeys))?.waiters[0] === waiter;
  }

  /** Removes `waiter`; the next one becomes head, told whether the lock was taken on the way. */
  leave(storeKeys: readonly string[], waiter: Waiter, acquired: boolean): void {
    waiter.left();
    // Handed a lock it leaves without (it gave up in the same turn, or its subscription failed):
    // let go of it, queued behind the hand-over itself, so the key is not left to its ttl.
    const handed = waiter.handedOver;
    if (!acquired && handed) this.store.release({ ...waiter.request, token: handed.token }).catch(() => undefined);
    const id = keySetId(storeKeys);
    const queue = this.queues.get(id);
    if (!queue) return;
    const index = queue.waiters.indexOf(waiter);
    if (index === -1) return;
    queue.waiters.splice(index, 1);
    if (queue.waiters.length === 0) {
      this.queues.delete(id);
      void queue.listening.then(
        (stop) => stop(),
        () => undefined,
      );
      return;
    }
    const behindHolder = acquired && !HAND_OVER_POLICIES[waiter.request.kind].roomBehindNewHolder;
    if (index === 0) queue.waiters[0]!.wake(behindHolder ? 'head-behind-holder' : 'head');
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
   * Lets go of a lock: hands it to the head waiter of this process or releases it through the
   * store, which announces the release to every process, as the lock kind's HandOverPolicy
   * decides. An optimistic hand-over starts the waiter at once, with the giver's fence plus one,
   * inside the giver's lease, while the store confirms (or refuses) it; otherwise the waiter
   * starts once the store answered (one round trip, no window for anyone to barge in). Resolves
   * whether the releasing token still owned the lock.
   */
  releaseOrHandOver(releasing: Releasing): Promise<boolean> {
    const queue = this.closed || this.queues.size === 0 ? undefined : this.queues.get(keySetId(releasing.keys));
    // Nobody waiting in this process (the common case): straight to the store, its promise passed
    // on as it is (not async: no promise adopting it), a store that throws still rejecting.
    if (!queue) {
      try {
        return this.store.release(releasing);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.route(releasing, queue);
  }

  /** The lock kind's HandOverPolicy picks how a release with waiters of this process goes. */
  private async route(releasing: Releasing, queue: Queue): Promise<boolean> {
    const head = queue.waiters[0];
    const policy = HAND_OVER_POLICIES[releasing.kind];
    const sentAt = performance.now();
    switch (policy.route(releasing, head, this.store, sentAt)) {
      case 'release':
        return this.store.release(releasing);
      case 'release-capped':
        head!.yieldNextRelease(policy.yieldsAfterCap(releasing));
        return this.store.release(releasing);
      case 'hand-over-at-once':
        return this.handOverAtOnce(releasing, head!, sentAt, policy);
      case 'hand-over':
        return this.handOver(releasing, head!, sentAt, policy);
    }
  }

  /** The receiver starts once the store granted it the lock. */
  private async handOver(releasing: Releasing, head: Waiter, sentAt: number, policy: HandOverPolicy): Promise<boolean> {
    const run = policy.continueRun(releasing, false);
    const { kind, keys, token } = releasing;
    const receiving = head.request;
    head.handOverSent();
    try {
      const to = receiving.token;
      const { owned, fence, othersWaiting } = await this.store
        .handOver({ kind, keys, from: token, to, ttl: receiving.ttl, limit: receiving.limit })
        .catch((error: unknown) => {
          head.retireToken(); // the hand-over may still run, and its undo too (see Waiter.retireToken)
          throw error;
        });
      policy.answered(run, othersWaiting, fence !== null);
      if (fence !== null && !head.receive({ token: to, fence, sentAt, handOverRun: run })) {
        // The waiter gave up while the hand-over was in flight: nobody holds it, let it go.
        await this.store.release(receiving);
      }
      return owned;
    } finally {
      head.answered();
    }
  }

  /** The receiver starts at once, covered by the giver's lease until the store confirms. */
  private handOverAtOnce(releasing: Releasing, head: Waiter, sentAt: number, policy: HandOverPolicy): Promise<boolean> {
    const run = policy.continueRun(releasing, true);
    const { kind, keys, token, fence, validUntil } = releasing;
    const optimistic = { expectedFence: fence, coveredFor: validUntil - sentAt };
    const result = this.store.handOver({ kind, keys, from: token, to: head.token, ttl: head.request.ttl, optimistic });
    const confirmed = result.then((answer) => answer.fence !== null);
    confirmed.catch(() => undefined); // the receiver's lease reports it
    // The head is active and idle (the policy checked, in the same turn), so it takes the lock.
    head.receive({
      token: head.token,
      fence: fence + 1,
      sentAt,
      provisional: { until: validUntil, confirmed },
      handOverRun: run,
    });
    return result.then((answer) => {
      policy.answered(run, answer.othersWaiting, false);
      return answer.owned;
    });
  }
}
