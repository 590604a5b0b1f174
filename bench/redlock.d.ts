// redlock 5's package.json "exports" hides its bundled types from node16 resolution; this declares
// the part of its API the benchmark uses.
declare module 'redlock' {
  import type { Redis } from 'ioredis';

  interface Settings {
    driftFactor?: number;
    retryCount?: number;
    retryDelay?: number;
    retryJitter?: number;
    automaticExtensionThreshold?: number;
  }

  interface RedlockLock {
    release(): Promise<unknown>;
  }

  export default class Redlock {
    constructor(clients: Redis[], settings?: Settings);
    acquire(resources: string[], duration: number, settings?: Settings): Promise<RedlockLock>;
  }
}
