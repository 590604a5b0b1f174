import type { LockLostEvent } from '../../core/lock-lost-event.interface';
import type {
  RedisCompatibleClient,
  RedisConnectionOption,
  WaitForReplicasOptions,
} from '../../stores/redis/redis-options';

export type { RedisCompatibleClient, RedisConnectionOption, WaitForReplicasOptions };

/** Options of RedisLockModule.forRoot / forRootAsync. */
export interface RedisLockModuleOptions {
  /**
   * Where locks live. `'redis'` (default) shares them with every process on the same Redis;
   * `'memory'` keeps them in this process only, with the same semantics (single-instance apps,
   * demos, unit tests).
   */
  store?: 'redis' | 'memory';
  /**
   * The Redis connection. An ioredis `Redis` or `Cluster` instance (or iovalkey's) is yours: used as
   * is and never closed by the module. Options or a URL string make the module create its own client, closed on
   * shutdown. Sentinel: `{ sentinels: [{ host, port }, …], name: 'mymaster' }` (ioredis' Sentinel
   * options). An array of three or more of these names independent Redis masters, and selects the
   * quorum (Redlock) store: a lock is held while a majority of them holds it (see the README's
   * Deployments). Default: ioredis' default, 127.0.0.1:6379.
   */
  redis?: RedisConnectionOption | RedisConnectionOption[];
  /** Prepended to every key in Redis. Default: `'lock:'`. */
  keyPrefix?: string;
  /**
   * Who this process is, as `LockService.inspect` names a lock's holder: a non-empty string of at
   * most 128 characters without control characters (a pod name, a worker id). Carried inside each
   * lock's owner token, so naming the holder costs no extra write. Default: host name and process
   * id, e.g. `api-7f9c:4121`.
   */
  holderId?: string;
  /** Default lease in ms (positive integer, 10 to 2^31-1). Default: 30 000. */
  ttl?: number;
  /** Default wait for a busy lock in ms (integer, 0 to 2^31-1; 0 = one attempt). Default: 5 000. */
  wait?: number;
  /**
   * Bound on each Redis call in ms: past it the call fails with LockStoreError (HTTP 503) instead of
   * waiting on ioredis' offline queue. Default: 3 000.
   */
  storeTimeout?: number;
  /**
   * Called when a held lock is lost (renewal found it gone or taken, Redis stayed unreachable
   * until the lease ended, maxHold, shutdown), after the lock's signal has aborted. For metrics and
   * alerts; an error it throws is logged. Default: none (the loss is logged as a warning).
   */
  onLockLost?: (event: LockLostEvent) => void;
  /**
   * When the application shuts down (`app.close()`, or a signal under `enableShutdownHooks()`),
   * locks already held stay held and renewed for up to this many ms, so the work under them can
   * finish while the app drains; acquisitions keep working until the module closes its store,
   * after every other module's shutdown hooks. Past it the remaining holders' signals abort
   * (reason `shutdown`) and their locks are released. 0: abort them as soon as shutdown begins.
   * Keep it below your orchestrator's grace period (Kubernetes' terminationGracePeriodSeconds).
   * Default: 10 000.
   */
  shutdownGrace?: number;
  /**
   * Count an acquisition (or a hand-over) only once `replicas` replicas acknowledged it, within
   * `timeout` ms (Redis `WAIT` on the connection that ran the script, as Redisson does). When too
   * few acknowledge, the grant is released and the attempt fails with LockStoreError (HTTP 503).
   * Keeps a lock through a failover to an acknowledging replica; costs one more round trip per
   * grant and blocks the store's connection while WAIT waits. Not on a Redis Cluster. Default: off.
   */
  waitForReplicas?: WaitForReplicasOptions;
  /**
   * OpenTelemetry (recorded through `@opentelemetry/api` whenever the application registered an
   * SDK; nothing to switch on). `keyAsName: true` records each lock's resolved key as `lock.name`
   * instead of its template or `name` option: only for apps with few distinct keys, since every
   * key becomes its own metric series. Default: `{ keyAsName: false }`.
   */
  telemetry?: { keyAsName?: boolean };
  /**
   * Answer lock errors for the whole application: a global filter that catches only lock errors
   * (busy 409 / `LOCK_BUSY`, unavailable 503 / `LOCK_UNAVAILABLE`, …) on HTTP, GraphQL and RPC,
   * and the same answers for WebSocket gateways, also where no `@WithLock` is involved (a
   * `LockService` call in a plain route or resolver). Filters of your own on a route or its class
   * are asked first. `false`: only `@WithLock` routes answer lock errors; others reach your filters
   * (or Nest's 500). Default: true.
   */
  exceptionFilter?: boolean;
}
