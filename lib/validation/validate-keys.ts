import { LockArgumentError } from '../errors';
import { MAX_KEYS, MAX_KEY_LENGTH } from '../redis-lock.constants';

/** Segments that mean a key was built from a missing value, e.g. `order:${undefined}`. */
const JUNK_SEGMENT = /(^|[:/.{}|#\s-])(undefined|null|NaN)($|[:/.{}|#\s-])|\[object \w+\]/;

/**
 * Checks a user's key (or keys) and returns them as a list without duplicates.
 * Rejects what is almost always a bug: empty keys, keys built from undefined/null, huge keys.
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
    throw new LockArgumentError(argument, `expected a string, got ${describe(key)}`);
  }
  if (key.trim() === '') throw new LockArgumentError(argument, 'must not be empty or blank');
  if (key.length > MAX_KEY_LENGTH) {
    throw new LockArgumentError(argument, `must be at most ${MAX_KEY_LENGTH} characters, got ${key.length}`);
  }
  if (JUNK_SEGMENT.test(key)) {
    throw new LockArgumentError(
      argument,
      `"${key}" contains undefined/null/NaN or an object: a key part is missing`,
    );
  }
  return key;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'undefined') {
    return String(value);
  }
  return `a ${typeof value}`;
}
