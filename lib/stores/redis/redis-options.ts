import type { Cluster, Redis, RedisOptions } from 'ioredis';

/** `waitForReplicas`: how many replicas must acknowledge a grant, and how long to wait for them. */
export interface WaitForReplicasOptions {
  /** Replicas that must acknowledge (integer, at least 1). */
  replicas: number;
  /** How long Redis' WAIT may block for them, in ms (integer, at least 1, below `storeTimeout`). */
  timeout: number;
}

/** One Redis (or Cluster) connection: a client instance, ioredis options, or a URL. */
export type RedisConnectionOption = Redis | Cluster | RedisOptions | string;
