import { LockArgumentError } from '../errors';
import { describeValue } from '../utils/describe-value';
import { MAX_KEYS, MAX_KEY_LENGTH } from '../defaults';

/** Control characters (C0, DEL, C1): never part of a resource name, and invisible in logs. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Segments that mean a key was built from a missing value, e.g. `order:${undefined}`. */
const JUNK_SEGMENT = /(^|[:/.{}|#\s-])(undefined|null|NaN)($|[:/.{}|#\s-])|\[object \w+\]/;

/**
 * Checks a user's key (or keys) and returns them as a list without duplicates.
 * Rejects what is almost always a bug: empty keys, keys built from undefined/null, huge keys,
 * control characters and lone surrogates. Any other Unicode text is a valid key.
 */
export function validateKeys(key: unknown, argument = 'key'): string[] {
  if (!Array.isArray(key)) return [validateKey(key, argument)];
  const list: unknown[] = key;
  if (list.length === 0) throw new LockArgumentError(argument, 'an array of keys must not be empty');
  if (list.length > MAX_KEYS) {
    throw new LockArgumentError(argument, `at most ${MAX_KEYS} keys per lock, got ${list.length}`);
  }
  return [...new Set(list.map((item, index) => validateKey(item, `${argument}[${index}]`)))];
}

function validateKey(key: unknown, argument: string): string {
  if (typeof key !== 'string') {
    throw new LockArgumentError(argument, `expected a string, got ${describeValue(key)}`);
  }
  if (key.trim() === '') throw new LockArgumentError(argument, 'must not be empty or blank');
  if (key.length > MAX_KEY_LENGTH) {
    throw new LockArgumentError(argument, `must be at most ${MAX_KEY_LENGTH} characters, got ${key.length}`);
  }
  checkKeyText(key, argument);
  if (JUNK_SEGMENT.test(key)) {
    throw new LockArgumentError(argument, `"${key}" contains undefined/null/NaN or an object: a key part is missing`);
  }
  return key;
}

/** Key text (a key or the key prefix) has no control character and no lone surrogate. */
export function checkKeyText(text: string, argument: string): void {
  if (CONTROL_CHARACTER.test(text)) {
    throw new LockArgumentError(
      argument,
      `${describeValue(text)} contains a control character (U+0000-U+001F, U+007F-U+009F)`,
    );
  }
  // A lone surrogate is sent to Redis as U+FFFD, so two different keys would share one lock.
  if (!text.isWellFormed())
    throw new LockArgumentError(argument, `${describeValue(text)} contains a lone UTF-16 surrogate`);
}
