import type { LockKind } from '../../stores/lock-store.interface';
import { LockArgumentError } from '../errors';
import type { AcquireOptions } from './acquire-options.interface';
import type { OnBusy, WithLockOptions } from './with-lock-options.interface';
import { MAX_DURATION, MIN_TTL } from '../defaults';
import { describeValue } from '../utils/describe-value';
import { checkKind, kindOf } from './lock-kind-options';

/** Longest `name` option: a telemetry attribute, not a key. */
const MAX_NAME_LENGTH = 256;

/** The options of an acquisition, however it is asked for. */
const LOCK_OPTIONS = ['ttl', 'wait', 'autoRenew', 'minHold', 'maxHold', 'name', 'limit', 'mode'] as const;
/** The options LockService's methods accept. */
export const ACQUIRE_OPTIONS: ReadonlySet<string> = new Set([...LOCK_OPTIONS, 'signal']);
/** The options @WithLock accepts (the call's life cycle is its signal; onBusy is its own). */
export const DECORATOR_OPTIONS: ReadonlySet<string> = new Set([...LOCK_OPTIONS, 'onBusy']);

/** Options as given, each checked; unset ones stay unset (the module's defaults fill them per call). */
export type CheckedOptions = Readonly<AcquireOptions & WithLockOptions>;

/** The options of one acquisition, complete: the given ones over the module's defaults. */
export interface ResolvedAcquireOptions {
  /** What kind of lock the options ask for: passed down to the store with every call. */
  readonly kind: LockKind;
  /** A permit's limit (kind 'permit'), else undefined. */
  readonly limit: number | undefined;
  readonly ttl: number;
  readonly wait: number;
  readonly autoRenew: boolean;
  /** 0: released as soon as the work ends. */
  readonly minHold: number;
  /** Infinity: renewed for as long as the work runs. */
  readonly maxHold: number;
}

/**
 * Checks each given option (unknown names are rejected: a typo must not pass silently), and the
 * relations between those given together. `argument` names them in errors.
 */
export function checkAcquireOptions(options: unknown, argument: string, known: ReadonlySet<string>): CheckedOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LockArgumentError(argument, `expected an object, got ${describeValue(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new LockArgumentError(`${argument}.${name}`, 'unknown option');
  }
  const { ttl, wait, autoRenew, minHold, maxHold, name, signal, onBusy } = options as CheckedOptions;
  if (ttl !== undefined) validateTtl(ttl, `${argument}.ttl`);
  if (wait !== undefined) validateWait(wait, `${argument}.wait`);
  if (autoRenew !== undefined && typeof autoRenew !== 'boolean') {
    throw new LockArgumentError(`${argument}.autoRenew`, `expected a boolean, got ${describeValue(autoRenew)}`);
  }
  if (minHold !== undefined) integerInRange(minHold, `${argument}.minHold`, 0, MAX_DURATION);
  if (maxHold !== undefined) integerInRange(maxHold, `${argument}.maxHold`, MIN_TTL, MAX_DURATION);
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH)) {
    throw new LockArgumentError(
      `${argument}.name`,
      `expected a string of 1 to ${MAX_NAME_LENGTH} characters, got ${describeValue(name)}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new LockArgumentError(`${argument}.signal`, `expected an AbortSignal, got ${describeValue(signal)}`);
  }
  if (onBusy !== undefined && onBusy !== 'throw' && onBusy !== 'skip') {
    throw new LockArgumentError(`${argument}.onBusy`, `expected 'throw' or 'skip', got ${describeValue(onBusy)}`);
  }
  checkHolds(ttl, minHold, maxHold, argument);
  checkKind(options as CheckedOptions, argument);
  return { ...(options as CheckedOptions) };
}

/** The checked options over the module's defaults; relations that involve a default are checked here. */
export function resolveAcquireOptions(
  options: CheckedOptions,
  defaults: { readonly ttl: number; readonly wait: number },
  argument: string,
): ResolvedAcquireOptions {
  const resolved: ResolvedAcquireOptions = {
    kind: kindOf(options),
    limit: options.limit,
    ttl: options.ttl ?? defaults.ttl,
    wait: options.wait ?? defaults.wait,
    autoRenew: options.autoRenew ?? true,
    minHold: options.minHold ?? 0,
    maxHold: options.maxHold ?? Infinity,
  };
  checkHolds(resolved.ttl, resolved.minHold, resolved.maxHold, argument);
  return resolved;
}

/** What a decorator does when its lock stays busy. */
export function onBusyOf(options: CheckedOptions): OnBusy {
  return options.onBusy ?? 'throw';
}

function checkHolds(
  ttl: number | undefined,
  minHold: number | undefined,
  maxHold: number | undefined,
  argument: string,
): void {
  if (maxHold === undefined || maxHold === Infinity) return;
  if (ttl !== undefined && maxHold < ttl) {
    throw new LockArgumentError(
      `${argument}.maxHold`,
      `must be at least the ttl (${ttl} ms), got ${maxHold}: the first lease alone would outlast it`,
    );
  }
  if (minHold !== undefined && minHold > maxHold) {
    throw new LockArgumentError(`${argument}.minHold`, `must not exceed maxHold (${maxHold} ms), got ${minHold}`);
  }
}

export function validateTtl(ttl: unknown, argument = 'ttl'): number {
  return integerInRange(ttl, argument, MIN_TTL, MAX_DURATION);
}

export function validateWait(wait: unknown, argument = 'wait'): number {
  return integerInRange(wait, argument, 0, MAX_DURATION);
}

export function integerInRange(value: unknown, argument: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new LockArgumentError(
      argument,
      `expected an integer from ${min} to ${max} (ms), got ${describeValue(value)}`,
    );
  }
  return value;
}
