import type { LockLogger } from '../../core/lock-logger';
import { LockStoreError } from '../../core/errors';
import { CONNECTION_ERROR, CONNECTION_RESTORED } from '../../core/lock.messages';
import type { RedisConnection } from './create-redis-client';

/** Connection errors that say the server cannot be reached at all, as opposed to slow or silent. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND']);

/** Client states in which a command would only wait in the offline queue. */
const NOT_CONNECTED = new Set(['connecting', 'reconnecting', 'close', 'wait']);

/**
 * Watches a client's connection: logs one warning per outage, naming its cause, and knows when
 * the client's last attempt to connect was refused, so a call can be answered at once instead of
 * waiting in the offline queue for storeTimeout. A silent server (paused, overloaded) accepts the
 * connection and is not a refusal: its calls keep the storeTimeout bound.
 *
 * The refusal ends with the next successful connection ('connect'), and is only believed while the
 * client is not connected, so a missed event can never refuse a working connection.
 */
export class ConnectionWatch {
  /** The error of the client's last failed connection attempt, while it says Redis is unreachable. */
  private refusal: Error | undefined;
  private reported = false;
  private readonly onError = (error: Error) => this.failed(error);
  private readonly onConnect = () => (this.refusal = undefined);
  private readonly onReady = () => this.restored();

  constructor(
    private readonly client: RedisConnection,
    private readonly logger: LockLogger,
  ) {
    // Also on a user's client: without a listener, ioredis prints every retry's error to stderr.
    client.on('error', this.onError);
    client.on('connect', this.onConnect);
    client.on('ready', this.onReady);
  }

  /**
   * A LockStoreError to answer `operation` with at once, when the client knows Redis refuses
   * connections; undefined when the call should be sent (and bounded) as usual. A release is
   * always sent: it must queue behind the grant it undoes, which the client resends after
   * reconnecting, and a holder's release still frees the lock then.
   */
  refused(operation: string): LockStoreError | undefined {
    if (operation === 'release' || this.refusal === undefined) return undefined;
    if (!NOT_CONNECTED.has(this.client.status)) return undefined;
    return LockStoreError.refused(operation, this.refusal);
  }

  /** Removes the listeners (a user's client outlives the store). */
  detach(): void {
    this.client.off('error', this.onError);
    this.client.off('connect', this.onConnect);
    this.client.off('ready', this.onReady);
  }

  private failed(error: Error): void {
    // The last attempt's verdict: a later failure of another kind (a time-out) is no refusal.
    this.refusal = unreachableCause(error);
    if (this.reported) return;
    this.reported = true;
    this.logger.warn(CONNECTION_ERROR(error.message));
  }

  private restored(): void {
    this.refusal = undefined;
    if (this.reported) this.logger.log(CONNECTION_RESTORED());
    this.reported = false;
  }
}

/**
 * The error that says Redis is unreachable: the error itself, or for a Cluster that could reach
 * none of its nodes, the last node's error.
 */
function unreachableCause(error: Error): Error | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && UNREACHABLE.has(code)) return error;
  const lastNodeError = (error as { lastNodeError?: unknown }).lastNodeError;
  return lastNodeError instanceof Error ? unreachableCause(lastNodeError) : undefined;
}
