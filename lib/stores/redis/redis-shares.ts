import type { AcquireAttempt, LeaseRequest, ReleaseRequest } from '../lock-store.interface';
import { FENCE_RETENTION } from '../../core/tuning';
import { withFenceKeys } from '../../core/keys/store-keys';
import { neverSent } from './bounded-calls';
import { SCRIPTS, type ScriptName } from './script-commands';

/** What the share steps need from the Redis store. */
export interface SharesHost {
  call(operation: string, script: ScriptName, keys: readonly string[], args: (string | number)[]): Promise<unknown>;
  /** The release announcement's publish command (see pubsub-mode.ts). */
  publishCommand(): Promise<string>;
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
      reply = Number(await this.host.call('acquire', SCRIPTS.sharedAcquire, withFenceKeys(keys), [token, ttl, ttl + FENCE_RETENTION, kind, limit]));
    } catch (error) {
      if (!neverSent(error)) this.release({ kind, keys, token }).catch(() => undefined);
      throw error;
    }
    return reply > 0 ? { fence: reply } : { fence: null, remaining: -reply };
  }

  async extend({ kind, keys, token, ttl }: LeaseRequest): Promise<boolean> {
    return Number(await this.host.call('extend', SCRIPTS.sharedExtend, keys, [token, ttl, kind])) === 1;
  }

  async release({ kind, keys, token, releaseId = '' }: ReleaseRequest): Promise<boolean> {
    const publish = await this.host.publishCommand();
    return Number(await this.host.call('release', SCRIPTS.sharedRelease, keys, [token, publish, releaseId, kind])) === 1;
  }
}
