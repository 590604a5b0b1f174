import { LockStoreError } from '../../core/errors';
import type { WaitForReplicasOptions } from './redis-options';
import type { BoundedCalls } from './bounded-calls';
import type { RedisConnection } from './create-redis-client';

/**
 * The `waitForReplicas` rule: a grant counts only once enough replicas acknowledged it. Redis'
 * WAIT counts the replicas that acknowledged every write made so far *on the connection it is
 * sent on*; sent on the store's command connection right after the granting script's reply, it
 * covers that grant (ioredis keeps commands in order per connection). A Cluster routes each
 * command to its own node, so the option is refused there at bootstrap.
 */
export class ReplicaAcknowledgement {
  constructor(
    private readonly client: RedisConnection,
    private readonly calls: BoundedCalls,
    private readonly options: WaitForReplicasOptions,
  ) {}

  /**
   * Resolves when enough replicas acknowledged a grant; otherwise (too few, or WAIT failed) calls
   * `undo` to take the grant back and rejects with the LockStoreError saying so.
   */
  async confirm(operation: string, undo: () => void): Promise<void> {
    const { replicas, timeout } = this.options;
    try {
      const acknowledged = await this.calls.run(operation, () => this.client.wait(replicas, timeout));
      if (Number(acknowledged) < replicas) {
        throw LockStoreError.replicasMissing(operation, Number(acknowledged), replicas, timeout);
      }
    } catch (error) {
      undo();
      throw error;
    }
  }
}
