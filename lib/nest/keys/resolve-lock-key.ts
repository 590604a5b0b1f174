import { LockArgumentError } from '../../core/errors';
import type { LockKeySource } from './lock-key.interface';
import { validateKeys } from '../../core/keys/validate-keys';
import { type KeyLookup, isKeyTemplate, resolveKeyTemplate } from '../../core/keys/resolve-key-template';

/**
 * Turns a @WithLock key into the call's list of keys: a factory is called with `factoryArgs`,
 * templates are filled through `lookup`; the result is validated like any key.
 */
export function resolveLockKey(source: LockKeySource, factoryArgs: readonly unknown[], lookup: KeyLookup): string[] {
  if (typeof source === 'function') {
    let key: unknown;
    try {
      key = source(...factoryArgs);
    } catch (error) {
      throw new LockArgumentError('key', `the key function threw: ${(error as Error)?.message ?? String(error)}`);
    }
    if (key instanceof Promise) throw new LockArgumentError('key', 'the key function must return a key, not a Promise');
    return validateKeys(key, 'key (returned by the key function)');
  }
  if (!Array.isArray(source)) {
    return validateKeys(typeof source === 'string' ? resolveKeyTemplate(source, lookup, 'key') : source);
  }
  const filled = source.map((template, index) =>
    typeof template === 'string' && isKeyTemplate(template)
      ? resolveKeyTemplate(template, lookup, `key[${index}]`)
      : template,
  );
  return validateKeys(filled);
}
