import type { WithLockMetadata } from '../../nest/decorators/with-lock-metadata.interface';

/** `lock.name` of a LockService call given no `name` (and no opt-in to key names). */
export const UNNAMED_LOCK = 'unnamed';

/**
 * `lock.name` of a @WithLock method: its `name` option, else its key template as written
 * (`order:{id}`, never the resolved `order:123`: a metric attribute must stay low-cardinality),
 * else, for a key factory, the method (`Class.method`). @internal
 */
export function decoratedLockName(metadata: Pick<WithLockMetadata, 'key' | 'options' | 'method'>): string {
  if (metadata.options.name !== undefined) return metadata.options.name;
  if (typeof metadata.key === 'string') return metadata.key;
  if (Array.isArray(metadata.key)) return metadata.key.join(',');
  return metadata.method;
}

/**
 * `lock.name` of one acquisition: the resolved keys only when the module's `telemetry.keyAsName`
 * opts in, otherwise the name given. @internal
 */
export function lockName(given: string, keys: readonly string[], keyAsName: boolean): string {
  return keyAsName ? keys.join(',') : given;
}
