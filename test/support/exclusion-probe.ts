/**
 * Watches a critical section for mutual exclusion: counts the times a caller entered while another
 * was still inside, and keeps a counter updated non-atomically (read, yield, write), which comes
 * out exact only if no two updates overlapped.
 */
export class ExclusionProbe {
  /** Times a caller entered while another was inside (0 under a working lock). */
  overlaps = 0;
  /** The non-atomically updated counter. */
  count = 0;
  private inside = 0;

  /** Runs `work` as the critical section, counting an overlap if another caller is inside. */
  async section<T>(work: () => T | Promise<T>): Promise<T> {
    if (++this.inside > 1) this.overlaps++;
    try {
      return await work();
    } finally {
      this.inside--;
    }
  }

  /**
   * A read-modify-write of `count` by `by`, with a random pause of up to `maxPause` ms between the
   * read and the write (where an unlocked caller would interleave); resolves to the new count.
   */
  increment(by = 1, maxPause = 3): Promise<number> {
    return this.section(async () => {
      const read = this.count;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * maxPause));
      this.count = read + by;
      return this.count;
    });
  }

  reset(): void {
    this.overlaps = 0;
    this.count = 0;
    this.inside = 0;
  }
}
