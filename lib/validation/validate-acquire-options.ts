import { LockArgumentError } from '../errors';
import type { AcquireOptions } from '../interfaces/acquire-options.interface';
import type { CancelSignal } from '../utils/cancellation';
import { MAX_DURATION, MIN_TTL } from '../redis-lock.constants';
import { describe } from './validate-keys';

const KNOWN = new Set(['ttl', 'wait', 'autoRenew', 'signal']);

/** The options of one acquisition after validation, with the module's defaults filled in. */
export interface ResolvedAcquireOptions {
  ttl: number;
  wait: number;
  autoRenew: boolean;
  /** The caller's AbortSignal, or the life cycle's own cancellation. */
  signal?: CancelSignal;
}

/** Validates acquisition options (unknown names are rejected: a typo must not pass silently). */
export function validateAcquireOptions(
  options: unknown,
  defaults: { ttl: number; wait: number },
  argument = 'options',
  known: ReadonlySet<string> = KNOWN,
): ResolvedAcquireOptions {
  if (options === undefined) return { ttl: defaults.ttl, wait: defaults.wait, autoRenew: true };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LockArgumentError(argument, `expected an object, got ${describe(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new LockArgumentError(`${argument}.${name}`, 'unknown option');
  }
  const { ttl, wait, autoRenew, signal } = options as AcquireOptions;
  if (autoRenew !== undefined && typeof autoRenew !== 'boolean') {
    throw new LockArgumentError(`${argument}.autoRenew`, `expected a boolean, got ${describe(autoRenew)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new LockArgumentError(`${argument}.signal`, `expected an AbortSignal, got ${describe(signal)}`);
  }
  return {
    ttl: ttl === undefined ? defaults.ttl : validateTtl(ttl, `${argument}.ttl`),
    wait: wait === undefined ? defaults.wait : validateWait(wait, `${argument}.wait`),
    autoRenew: autoRenew ?? true,
    signal,
  };
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
