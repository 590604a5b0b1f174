import { LockArgumentError } from '../errors';
import { describeValue } from '../utils/describe-value';

/**
 * `{name}`, `{0}`, `{body.order.id}`: a brace group that is a property path. Any other brace group
 * (`{order:1}`, a Redis Cluster hash tag) is left as written.
 */
const PLACEHOLDER = /\{((?:[A-Za-z_$][\w$]*|\d+)(?:\.[\w$]+)*)\}/g;

/** Reads a placeholder's first name (`body` in `{body.id}`) from the call. */
export type KeyLookup = (name: string) => unknown;

/** A template split once into literal text and placeholder paths. */
interface CompiledTemplate {
  literals: string[];
  paths: string[][];
}

const compiled = new Map<string, CompiledTemplate | null>();

export function isKeyTemplate(key: string): boolean {
  return compile(key) !== null;
}

/**
 * Fills a key template from the call. A placeholder that resolves to undefined, null, '', NaN
 * or an object is an error: locking `order:undefined` would serialise every call.
 */
export function resolveKeyTemplate(template: string, lookup: KeyLookup, argument: string): string {
  const parts = compile(template);
  if (!parts) return template;
  let key = parts.literals[0]!;
  parts.paths.forEach((path, index) => {
    let value = lookup(path[0]!);
    for (let i = 1; i < path.length && value != null; i++) value = (value as Record<string, unknown>)[path[i]!];
    key += stringify(value, template, path, argument) + parts.literals[index + 1]!;
  });
  return key;
}

function stringify(value: unknown, template: string, path: string[], argument: string): string {
  if (typeof value === 'string' && value !== '') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return String(value);
  throw new LockArgumentError(
    argument,
    `placeholder {${path.join('.')}} in "${template}" resolved to ${describeValue(value)}`,
  );
}

function compile(template: string): CompiledTemplate | null {
  let parts = compiled.get(template);
  if (parts !== undefined) return parts;
  const literals: string[] = [];
  const paths: string[][] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    literals.push(template.slice(last, match.index));
    paths.push(match[1]!.split('.'));
    last = match.index! + match[0].length;
  }
  literals.push(template.slice(last));
  parts = paths.length > 0 ? { literals, paths } : null;
  // Templates come from decorators, so there are few of them; the bound only guards misuse.
  if (compiled.size < 10_000) compiled.set(template, parts);
  return parts;
}
