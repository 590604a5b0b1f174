import type { WithLockMetadata } from './with-lock-metadata.interface';

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
