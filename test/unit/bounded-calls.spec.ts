import { afterEach, describe, expect, it, vi } from 'vitest';
import { LockStoreError } from '../../lib';
import { BoundedCalls } from '../../lib/stores/redis/bounded-calls';

/**
 * The bound's own arithmetic, on the clock it reads (performance.now and timers, faked together):
 * a call that never settles fails at its deadline, not at the next tick of a coarse sweep. The
 * calls stand for Redis replies that never come; the behaviour against a real redis-server is in
 * faults.spec.ts and refused-connection.spec.ts.
 */
describe('BoundedCalls', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const never = () => new Promise<never>(() => undefined);

  it('fails each call at its own deadline, however the calls before it are spaced', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const calls = new BoundedCalls(3_000);
    const settledAt: Record<string, number> = {};
    const track = (name: string) =>
      calls.run(name, never).catch((error: unknown) => {
        expect(error).toBeInstanceOf(LockStoreError);
        settledAt[name] = performance.now();
      });
    const started = performance.now();
    const first = track('first');
    await vi.advanceTimersByTimeAsync(130);
    const second = track('second');
    await vi.advanceTimersByTimeAsync(2_999 - 130);
    expect(settledAt).toEqual({});
    await vi.advanceTimersByTimeAsync(1);
    expect(settledAt.first! - started).toBe(3_000);
    await vi.advanceTimersByTimeAsync(129);
    expect(settledAt.second).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(settledAt.second! - started).toBe(3_130);
    await Promise.all([first, second]);
    calls.close();
  });

  it('answers a call its gate refuses without starting it', async () => {
    const refusal = LockStoreError.refused(
      'acquire',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    const calls = new BoundedCalls(3_000, (operation) => (operation === 'acquire' ? refusal : undefined));
    const started = vi.fn(never);
    await expect(calls.run('acquire', started)).rejects.toBe(refusal);
    expect(started).not.toHaveBeenCalled();
    expect(calls.inFlight).toBe(0);
    await expect(calls.run('release', async () => 'sent')).resolves.toBe('sent');
    calls.close();
  });
});
