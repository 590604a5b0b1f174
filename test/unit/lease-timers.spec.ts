import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runOutsideLockScope } from '../../lib';
import { LeaseTimers, type TimedEntry } from '../../lib/core/lease/lease-timers';

/** The shared timer queue of a LockService's leases, on a fake clock. */
describe('LeaseTimers (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => vi.useRealTimers());

  /** An entry that records when it was woken (ms after the test started). */
  function entry(woken: number[], start: number): TimedEntry {
    return { wakeAt: 0, timerSlot: -1, onTimer: () => woken.push(performance.now() - start) };
  }

  it('wakes every entry at its time, in time order, never early, with one Node timer armed', async () => {
    const timers = new LeaseTimers(runOutsideLockScope);
    const start = performance.now();
    const woken = new Map<number, number[]>();
    const times = [700, 50, 300, 50, 1_000, 10, 999, 400, 20, 600];
    times.forEach((at, index) => {
      const record: number[] = [];
      woken.set(index, record);
      timers.schedule(entry(record, start), start + at);
    });
    expect(timers.size).toBe(times.length);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_100);
    times.forEach((at, index) => {
      expect(woken.get(index)).toHaveLength(1);
      expect(woken.get(index)![0]).toBeGreaterThanOrEqual(at);
      expect(woken.get(index)![0]).toBeLessThan(at + 2);
    });
    expect(timers.size).toBe(0);
  });

  it('a cancelled entry is never woken; a rescheduled one is woken at its new time only', async () => {
    const timers = new LeaseTimers(runOutsideLockScope);
    const start = performance.now();
    const cancelled: number[] = [];
    const moved: number[] = [];
    const kept: number[] = [];
    const a = entry(cancelled, start);
    const b = entry(moved, start);
    timers.schedule(a, start + 100);
    timers.schedule(b, start + 200);
    timers.schedule(entry(kept, start), start + 300);
    timers.cancel(a);
    timers.cancel(a); // twice: no-op
    timers.schedule(b, start + 500);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(cancelled).toEqual([]);
    expect(moved).toHaveLength(1);
    expect(moved[0]).toBeGreaterThanOrEqual(500);
    expect(kept).toHaveLength(1);
  });

  it('an entry that schedules itself again from its wake-up is woken again (a renewing lease)', async () => {
    const timers = new LeaseTimers(runOutsideLockScope);
    const start = performance.now();
    const woken: number[] = [];
    const renewing: TimedEntry = {
      wakeAt: 0,
      timerSlot: -1,
      onTimer: () => {
        woken.push(performance.now() - start);
        if (woken.length < 3) timers.schedule(renewing, performance.now() + 100);
      },
    };
    timers.schedule(renewing, start + 100);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(woken).toHaveLength(3);
    expect(woken[2]).toBeGreaterThanOrEqual(300);
  });

  it('an earlier entry re-arms the timer; a later one waits for the armed one (which finds nothing due and re-arms)', async () => {
    const timers = new LeaseTimers(runOutsideLockScope);
    const start = performance.now();
    const late: number[] = [];
    const early: number[] = [];
    const first = entry([], start);
    timers.schedule(first, start + 1_000);
    timers.cancel(first); // the armed timer now fires for nothing
    timers.schedule(entry(late, start), start + 5_000);
    timers.schedule(entry(early, start), start + 200);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(early[0]).toBeGreaterThanOrEqual(200);
    expect(early[0]).toBeLessThan(202);
    expect(late[0]).toBeGreaterThanOrEqual(5_000);
    expect(late[0]).toBeLessThan(5_002);
  });

  it('many entries scheduled and cancelled in mixed order keep the queue consistent', async () => {
    const timers = new LeaseTimers(runOutsideLockScope);
    const start = performance.now();
    const entries = Array.from({ length: 200 }, (_, i) => ({
      at: ((i * 7919) % 1_000) + 1,
      record: [] as number[],
      entry: undefined as TimedEntry | undefined,
    }));
    for (const item of entries) {
      item.entry = entry(item.record, start);
      timers.schedule(item.entry, start + item.at);
    }
    entries.forEach((item, i) => {
      if (i % 3 === 0) timers.cancel(item.entry!);
    });
    expect(timers.size).toBe(200 - Math.ceil(200 / 3));
    await vi.advanceTimersByTimeAsync(1_100);
    entries.forEach((item, i) => {
      if (i % 3 === 0) expect(item.record).toEqual([]);
      else {
        expect(item.record).toHaveLength(1);
        expect(item.record[0]).toBeGreaterThanOrEqual(item.at);
      }
    });
  });
});
