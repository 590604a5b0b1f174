import type { StoreCapabilities } from '../lock-store.interface';

/**
 * What the Redis store can do. Under `waitForReplicas` (grants count only once replicas
 * acknowledged them): no optimistic hand-over, since a receiver must not start before the
 * acknowledgement, and only the mutex, since a share's acknowledgement is not implemented.
 */
export function redisCapabilities(waitsForReplicas: boolean): StoreCapabilities {
  return {
    kinds: waitsForReplicas ? ['mutex'] : ['mutex', 'permit', 'read'],
    optimisticHandOver: !waitsForReplicas,
    countsListeners: true,
    releaseIds: true,
    announcementsPerRelease: 1,
  };
}
