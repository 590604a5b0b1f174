import { LockArgumentError } from '../errors';
import type { LockKeySource } from '../interfaces/lock-key.interface';
import { validateKeys } from '../validation/validate-keys';
import { isKeyTemplate, resolveKeyTemplate } from './resolve-key-template';

/**
 * Turns a @WithLock key into the call's list of keys: a factory is called with `factoryArgs`,
 * templates are filled from `templateSource`; the result is validated like any key.
 */
export function resolveLockKey(
  source: LockKeySource,
  factoryArgs: readonly unknown[],
  templateSource: () => unknown,
): string[] {
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
  const templates = Array.isArray(source) ? source : [source];
  let data: unknown;
  const filled = templates.map((template, index) => {
    if (typeof template !== 'string' || !isKeyTemplate(template)) return template;
    data ??= templateSource();
    return resolveKeyTemplate(template, data, Array.isArray(source) ? `key[${index}]` : 'key');
  });
  return validateKeys(Array.isArray(source) ? filled : filled[0]);
}
