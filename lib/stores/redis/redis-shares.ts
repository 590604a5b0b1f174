import type {
  AcquireAttempt,
  HandOverRequest,
  HandOverResult,
  LeaseRequest,
  ReleaseRequest,
} from '../lock-store.interface';
import { FENCE_BLOCK } from '../../core/tuning';
import { withFenceKeys } from '../../core/keys/store-keys';
import { LockStoreError } from '../../core/errors';
import { neverSent } from './bounded-calls';
import { SCRIPTS, type ScriptName } from './script-commands';

/** What the share steps need from the Redis store. */
export interface SharesHost {
  call(operation: string, script: ScriptName, keys: readonly string[], args: (string | number)[]): Promise<unknown>;
  /** The release announcement's publish command (see pubsub-mode.ts). */
  publishCommand(): Promise<string>;
  /** False once the store is closing: a share granted then is let go of. */
  isOpen(): boolean;
}

/**
 * Permits and readers in Redis: each a share of one key, taken, renewed and released by its own
 * script (lua-shared.ts). A share taken by a call that failed (its reply lost or late) is let go
 * of, queued behind it; one that still lands later ends with its ttl, as a crashed holder's does.
 */
export class RedisShares {
  constructor(private readonly host: SharesHost) {}

  async tryAcquire({ kind, keys, token, ttl, limit = 0 }: LeaseRequest): Promise<AcquireAttempt> {
    let reply: number;
    try {
      reply = Number(
        await this.host.call('acquire', SCRIPTS.sharedAcquire, withFenceKeys(keys), [
          token,
          ttl,
          FENCE_BLOCK,
          kind,
          limit,
        ]),
      );
    } catch (error) {
      if (!neverSent(error)) this.release({ kind, keys, token }).catch(() => undefined);
      throw error;
    }
    if (reply <= 0) return { fence: null, remaining: -reply };
    if (!this.host.isOpen()) {
      this.release({ kind, keys, token }).catch(() => undefined);
      throw LockStoreError.closed();
    }
    return { fence: reply };
  }

  async extend({ kind, keys, token, ttl }: LeaseRequest): Promise<boolean> {
    return Number(await this.host.call('extend', SCRIPTS.sharedExtend, keys, [token, ttl, kind])) === 1;
  }

  /** Lets go of `from`'s share and takes one for `to` in one step (see SHARED_HAND_OVER_SCRIPT). */
  async handOver({ kind, keys, from, to, ttl, limit = 0 }: HandOverRequest): Promise<HandOverResult> {
    const publish = await this.host.publishCommand();
    let reply: [number | string, number | string];
    try {
      const args = [from, to, ttl, FENCE_BLOCK, kind, limit, publish];
      reply = (await this.host.call('handOver', SCRIPTS.sharedHandOver, withFenceKeys(keys), args)) as typeof reply;
    } catch (error) {
      // It may still run later: let go of both shares, queued behind it.
      for (const token of [to, from]) this.release({ kind, keys, token }).catch(() => undefined);
      throw error;
    }
    const owned = Number(reply[0]) === 1;
    const fence = Number(reply[1]);
    if (fence <= 0) return { owned, fence: null };
    // Shutting down: the receiver cannot be given a lock any more.
    if (!this.host.isOpen()) {
      this.release({ kind, keys, token: to }).catch(() => undefined);
      return { owned, fence: null };
    }
    return { owned, fence };
  }

  async release({ kind, keys, token, releaseId = '' }: ReleaseRequest): Promise<boolean> {
    const publish = await this.host.publishCommand();
    return (
      Number(await this.host.call('release', SCRIPTS.sharedRelease, keys, [token, publish, releaseId, kind])) === 1
    );
  }
}
