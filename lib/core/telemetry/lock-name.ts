/** `lock.name` of a LockService call given no `name` (and no opt-in to key names). */
export const UNNAMED_LOCK = 'unnamed';

/**
 * `lock.name` of one acquisition: the resolved keys only when the module's `telemetry.keyAsName`
 * opts in, otherwise the name given. @internal
 */
export function lockName(given: string, keys: readonly string[], keyAsName: boolean): string {
  return keyAsName ? keys.join(',') : given;
}
