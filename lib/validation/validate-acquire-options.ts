import { LockArgumentError } from '../errors';
import type { AcquireOptions } from '../interfaces/acquire-options.interface';
import type { OnBusy, WithLockOptions } from '../interfaces/with-lock-options.interface';
import type { CancelSignal } from '../utils/cancellation';
import { MAX_DURATION, MIN_TTL } from '../redis-lock.constants';
import { describe } from './validate-keys';

/** The options LockService's methods accept. */
export const ACQUIRE_OPTIONS: ReadonlySet<string> = new Set(['ttl', 'wait', 'autoRenew', 'minHold', 'maxHold', 'signal']);
/** The options @WithLock accepts (the call's life cycle is its signal; onBusy is its own). */
export const DECORATOR_OPTIONS: ReadonlySet<string> = new Set(['ttl', 'wait', 'autoRenew', 'minHold', 'maxHold', 'onBusy']);

/** The options of one acquisition after validation, with the module's defaults filled in. */
export interface ResolvedAcquireOptions {
  ttl: number;
  wait: number;
  autoRenew: boolean;
  /** 0: released as soon as the work ends. */
  minHold: number;
  /** Infinity: renewed for as long as the work runs. */
  maxHold: number;
  onBusy: OnBusy;
  /** The caller's AbortSignal, or the life cycle's own cancellation. */
  signal?: CancelSignal;
}

/** Validates acquisition options (unknown names are rejected: a typo must not pass silently). */
export function validateAcquireOptions(
  options: unknown,
  defaults: { ttl: number; wait: number },
  argument = 'options',
  known: ReadonlySet<string> = ACQUIRE_OPTIONS,
): ResolvedAcquireOptions {
  if (options === undefined) {
    return { ttl: defaults.ttl, wait: defaults.wait, autoRenew: true, minHold: 0, maxHold: Infinity, onBusy: 'throw' };
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LockArgumentError(argument, `expected an object, got ${describe(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new LockArgumentError(`${argument}.${name}`, 'unknown option');
  }
  const { ttl, wait, autoRenew, minHold, maxHold, signal, onBusy } = options as AcquireOptions & WithLockOptions;
  if (autoRenew !== undefined && typeof autoRenew !== 'boolean') {
    throw new LockArgumentError(`${argument}.autoRenew`, `expected a boolean, got ${describe(autoRenew)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new LockArgumentError(`${argument}.signal`, `expected an AbortSignal, got ${describe(signal)}`);
  }
  if (onBusy !== undefined && onBusy !== 'throw' && onBusy !== 'skip') {
    throw new LockArgumentError(`${argument}.onBusy`, `expected 'throw' or 'skip', got ${describe(onBusy)}`);
  }
  const resolved: ResolvedAcquireOptions = {
    ttl: ttl === undefined ? defaults.ttl : validateTtl(ttl, `${argument}.ttl`),
    wait: wait === undefined ? defaults.wait : validateWait(wait, `${argument}.wait`),
    autoRenew: autoRenew ?? true,
    minHold: minHold === undefined ? 0 : integerInRange(minHold, `${argument}.minHold`, 0, MAX_DURATION),
    maxHold: maxHold === undefined ? Infinity : integerInRange(maxHold, `${argument}.maxHold`, MIN_TTL, MAX_DURATION),
    onBusy: onBusy ?? 'throw',
    signal,
  };
  if (resolved.maxHold < resolved.ttl) {
    throw new LockArgumentError(
      `${argument}.maxHold`,
      `must be at least the ttl (${resolved.ttl} ms), got ${resolved.maxHold}: the first lease alone would outlast it`,
    );
  }
  if (resolved.minHold > resolved.maxHold) {
    throw new LockArgumentError(`${argument}.minHold`, `must not exceed maxHold (${resolved.maxHold} ms), got ${resolved.minHold}`);
  }
  return resolved;
}

export function validateTtl(ttl: unknown, argument = 'ttl'): number {
  return integerInRange(ttl, argument, MIN_TTL, MAX_DURATION);
}

export function validateWait(wait: unknown, argument = 'wait'): number {
  return integerInRange(wait, argument, 0, MAX_DURATION);
}

export function integerInRange(value: unknown, argument: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new LockArgumentError(argument, `expected an integer from ${min} to ${max} (ms), got ${describe(value)}`);
  }
  return value;
}
