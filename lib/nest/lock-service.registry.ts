import type { LockService } from './lock.service';

/**
 * How a @WithLock wrapper (installed on the prototype when the class is defined) finds the
 * LockService of the application that created the instance it is called on. Several Nest apps
 * may live in one process (tests, workers); each binds its own provider instances at bootstrap.
 */
const byInstance = new WeakMap<object, LockService>();
/** Services alive in this process, newest last: the fallback for instances Nest did not bind. */
const alive: LockService[] = [];

export const lockServiceRegistry = {
  bind(instance: object, service: LockService): void {
    byInstance.set(instance, service);
  },

  register(service: LockService): void {
    alive.push(service);
  },

  unregister(service: LockService): void {
    const index = alive.indexOf(service);
    if (index !== -1) alive.splice(index, 1);
  },

  /** The service bound to `instance`, else the newest one alive, else undefined. */
  resolve(instance: unknown): LockService | undefined {
    const bound = typeof instance === 'object' && instance !== null ? byInstance.get(instance) : undefined;
    return bound ?? alive[alive.length - 1];
  },
};
