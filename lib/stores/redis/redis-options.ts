import type { Cluster, Redis, RedisOptions } from 'ioredis';

/** `waitForReplicas`: how many replicas must acknowledge a grant, and how long to wait for them. */
export interface WaitForReplicasOptions {
  /** Replicas that must acknowledge (integer, at least 1). */
  replicas: number;
  /** How long Redis' WAIT may block for them, in ms (integer, at least 1, below `storeTimeout`). */
  timeout: number;
}

/**
 * A client instance of an ioredis-compatible library, recognised by shape: iovalkey's `Redis` and
 * `Cluster` (a fork of ioredis with the same API), or a copy of ioredis other than the module's.
 */
export interface RedisCompatibleClient {
  readonly status: string;
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
  evalsha(...args: never[]): unknown;
  duplicate(...args: never[]): unknown;
}

/** One Redis (or Cluster) connection: a client instance, ioredis options, or a URL. */
export type RedisConnectionOption = Redis | Cluster | RedisCompatibleClient | RedisOptions | string;
