/**
 * Copies every reflect-metadata entry and the name from `source` to `target`, so decorators read
 * by others (routes, @Cron, Swagger, SetMetadata) keep working on a wrapped method whichever side
 * of the wrapping decorator they were applied on.
 */
export function copyMethodMetadata(source: Function, target: Function): void {
  for (const key of Reflect.getOwnMetadataKeys(source)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, source), target);
  }
  Object.defineProperty(target, 'name', { value: source.name, configurable: true });
  Object.defineProperty(target, 'length', { value: source.length, configurable: true });
}
