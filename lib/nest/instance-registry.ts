/**
 * How a @WithLock wrapper (installed on the prototype when the class is defined) finds the
 * service of the application that created the instance it is called on. Several Nest apps may
 * live in one process (tests, workers); each binds its own provider instances at bootstrap.
 */
export class InstanceRegistry<T> {
  private readonly byInstance = new WeakMap<object, T>();
  /** Services alive in this process, newest last: the fallback for instances Nest did not bind. */
  private readonly alive: T[] = [];

  bind(instance: object, service: T): void {
    this.byInstance.set(instance, service);
  }

  register(service: T): void {
    this.alive.push(service);
  }

  unregister(service: T): void {
    const index = this.alive.indexOf(service);
    if (index !== -1) this.alive.splice(index, 1);
  }

  /** The service bound to `instance`, else the newest one alive, else undefined. */
  resolve(instance: unknown): T | undefined {
    const bound = typeof instance === 'object' && instance !== null ? this.byInstance.get(instance) : undefined;
    return bound ?? this.alive[this.alive.length - 1];
  }
}
