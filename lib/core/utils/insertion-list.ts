/** An InsertionList's links, kept on the entry itself (an entry is in at most one list). */
export interface Listed<T> {
  listPrev: T | undefined;
  listNext: T | undefined;
}

/**
 * Entries in insertion order, added and removed in O(1) without allocating. For the hot path's
 * long-lived collections that every lock passes through: a Set churned that way keeps promoting
 * its rehashed tables (an obsolete table links to its successor, for iterators), and every minor
 * GC then copies them; links on the entries leave nothing behind. @internal
 */
export class InsertionList<T extends Listed<T>> {
  private head: T | undefined;
  private tail: T | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The oldest entry. */
  first(): T | undefined {
    return this.head;
  }

  /** Appends `entry`; one already in the list stays where it is (as a Set would keep it). */
  add(entry: T): void {
    if (this.has(entry)) return;
    entry.listPrev = this.tail;
    entry.listNext = undefined;
    if (this.tail) this.tail.listNext = entry;
    else this.head = entry;
    this.tail = entry;
    this.count++;
  }

  /** Removes `entry`; false when it was not in the list. */
  delete(entry: T): boolean {
    if (!this.has(entry)) return false;
    const { listPrev: prev, listNext: next } = entry;
    if (prev) prev.listNext = next;
    else this.head = next;
    if (next) next.listPrev = prev;
    else this.tail = prev;
    entry.listPrev = undefined;
    entry.listNext = undefined;
    this.count--;
    return true;
  }

  /** Whether `entry` is in this list (it has a predecessor here, or is the head). */
  private has(entry: T): boolean {
    return entry.listPrev !== undefined || this.head === entry;
  }

  /** Oldest first; an entry may be deleted while it is visited. */
  *[Symbol.iterator](): Generator<T> {
    for (let entry = this.head; entry;) {
      const next = entry.listNext;
      yield entry;
      entry = next;
    }
  }
}
