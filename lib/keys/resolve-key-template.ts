import { LockArgumentError } from '../errors';
import { describe } from '../validation/validate-keys';

/**
 * `{name}`, `{0}`, `{body.order.id}`: a brace group that is a property path. Any other brace group
 * (`{order:1}`, a Redis Cluster hash tag) is left as written.
 */
const PLACEHOLDER = /\{((?:[A-Za-z_$][\w$]*|\d+)(?:\.[\w$]+)*)\}/g;

export function isKeyTemplate(key: string): boolean {
  PLACEHOLDER.lastIndex = 0;
  return PLACEHOLDER.test(key);
}

/**
 * Fills a key template from `source` (the call's arguments, or the request). A placeholder that
 * resolves to undefined, null, '' or an object is an error: locking `order:undefined` would
 * serialise every call.
 */
export function resolveKeyTemplate(template: string, source: unknown, argument: string): string {
  return template.replace(PLACEHOLDER, (_match, path: string) => {
    const value = path.split('.').reduce<unknown>((node, name) => (node == null ? undefined : (node as Record<string, unknown>)[name]), source);
    if (typeof value === 'string' && value !== '') return value;
    if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return String(value);
    throw new LockArgumentError(argument, `placeholder {${path}} in "${template}" resolved to ${describe(value)}`);
  });
}
