/** Something woken at a monotonic time (a Lease: its next renewal or its deadline). @internal */
export interface TimedEntry {
  /** Monotonic time (performance.now()) to be woken at. */
  wakeAt: number;
  /** Position in the queue; -1 while not queued. Owned by LeaseTimers. */
  timerSlot: number;
  onTimer(): void;
}

/**
 * One timer for every lease of a LockService, instead of a Node timer per lease: a min-heap of
 * wake times and one unref'd setTimeout for the earliest. Most locks are released long before
 * their first renewal, so a lease costs a heap insert and removal, and the Node timer is re-armed
 * only when a wake time earlier than the armed one arrives (a later one waits for it to fire).
 * Entries are woken no earlier than their time; a fire that finds nothing due re-arms for the
 * earliest left. @internal
 */
export class LeaseTimers {
  private readonly heap: TimedEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (monotonic ms); Infinity when none is armed. */
  private armedFor = Infinity;

  /**
   * `outsideLockScope` runs its argument outside every lock scope (the Locker passes
   * runOutsideLockScope): the Node timer is armed through it, so renewals and loss reports are no
   * part of the call chain that happened to schedule first. Passed in, so that the timers, and the
   * leases they wake, do not depend on the scope module and the Lock it holds.
   */
  constructor(private readonly outsideLockScope: <T>(work: () => T) => T) {}

  /** (Re)queues `entry` to be woken at `wakeAt`. */
  schedule(entry: TimedEntry, wakeAt: number): void {
    if (entry.timerSlot !== -1) this.remove(entry);
    entry.wakeAt = wakeAt;
    entry.timerSlot = this.heap.length;
    this.heap.push(entry);
    this.siftUp(entry.timerSlot);
    if (wakeAt < this.armedFor) this.arm(wakeAt);
  }

  /** Takes `entry` out of the queue (no-op when it is not queued). */
  cancel(entry: TimedEntry): void {
    if (entry.timerSlot !== -1) this.remove(entry);
  }

  /** Entries queued now (for tests and leak checks). */
  get size(): number {
    return this.heap.length;
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    // Pops before waking: a woken entry usually schedules itself again.
    while (this.heap.length > 0 && this.heap[0]!.wakeAt <= now) {
      const due = this.heap[0]!;
      this.remove(due);
      due.onTimer();
    }
    const next = this.heap[0];
    if (next && next.wakeAt < this.armedFor) this.arm(next.wakeAt);
  }

  private arm(wakeAt: number): void {
    clearTimeout(this.timer);
    this.armedFor = wakeAt;
    // Rounded up: a timer firing a fraction of a ms early would find nothing due.
    const delay = Math.max(1, Math.ceil(wakeAt - performance.now()));
    // Unref'd: held locks must not keep the process alive.
    this.timer = this.outsideLockScope(() => setTimeout(() => this.fire(), delay));
    this.timer.unref();
  }

  private remove(entry: TimedEntry): void {
    const slot = entry.timerSlot;
    entry.timerSlot = -1;
    const last = this.heap.pop()!;
    if (last === entry) return;
    this.heap[slot] = last;
    last.timerSlot = slot;
    this.siftUp(slot);
    this.siftDown(last.timerSlot);
  }

  private siftUp(slot: number): void {
    const heap = this.heap;
    const entry = heap[slot]!;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = heap[parentSlot]!;
      if (parent.wakeAt <= entry.wakeAt) break;
      heap[slot] = parent;
      parent.timerSlot = slot;
      slot = parentSlot;
    }
    heap[slot] = entry;
    entry.timerSlot = slot;
  }

  private siftDown(slot: number): void {
    const heap = this.heap;
    const entry = heap[slot]!;
    for (;;) {
      const left = 2 * slot + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.wakeAt < heap[left]!.wakeAt ? right : left;
      if (heap[child]!.wakeAt >= entry.wakeAt) break;
      heap[slot] = heap[child]!;
      heap[slot]!.timerSlot = slot;
      slot = child;
    }
    heap[slot] = entry;
    entry.timerSlot = slot;
  }
}
