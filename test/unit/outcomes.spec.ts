import { setTimeout as sleepFor } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LockArgumentError, LockError, LockLostError, LockNotAcquiredError, LockStoreError } from '../../lib';
import { HasLockOutcome, lockOutcomeOf } from '../../lib/nest/outcomes/lock-outcome';

describe('lock outcomes: one code per error', () => {
  const lost = new LockLostError(['a', 'b'], 'not-held');

  it('gives each lock error its code, HTTP status and client-safe message', () => {
    expect(lockOutcomeOf(new LockNotAcquiredError(['k'], 0))).toMatchObject({
      code: 'LOCK_BUSY',
      status: 409,
      lock: 'k',
    });
    const outage = LockStoreError.failed('acquire', new Error('connect ECONNREFUSED 10.0.0.1:6379'));
    const unavailable = lockOutcomeOf(outage);
    expect(unavailable).toMatchObject({
      code: 'LOCK_UNAVAILABLE',
      status: 503,
      message: 'The lock service is unavailable',
    });
    expect(unavailable).not.toHaveProperty('lock');
    expect(lockOutcomeOf(lost)).toMatchObject({ code: 'LOCK_LOST', status: 503, lock: ['a', 'b'], error: lost });
    expect(lockOutcomeOf(new LockArgumentError('key', 'empty'))).toMatchObject({
      code: 'LOCK_BAD_ARGUMENT',
      status: 400,
      argument: 'key',
    });
  });

  it('maps an AbortError whose cause is a lost lock, as timers/promises throws it for lock.signal', async () => {
    const controller = new AbortController();
    controller.abort(lost);
    const aborted = await sleepFor(10_000, undefined, { signal: controller.signal }).catch((e: unknown) => e);
    expect((aborted as Error).name).toBe('AbortError');
    expect(lockOutcomeOf(aborted)).toMatchObject({ code: 'LOCK_LOST', error: lost });
    expect(aborted).toBeInstanceOf(HasLockOutcome);
  });

  it('leaves everything else alone: misuse, other AbortErrors, other errors', () => {
    const misuse = new LockError('no module');
    expect(misuse.code).toBe('LOCK_ERROR');
    for (const other of [misuse, new DOMException('stop', 'AbortError'), new Error('boom'), 'text', undefined]) {
      expect(lockOutcomeOf(other)).toBeUndefined();
      expect(other instanceof HasLockOutcome).toBe(false);
    }
  });
});
