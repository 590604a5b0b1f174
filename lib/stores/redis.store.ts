import type { Logger } from '@nestjs/common';
import { LockStoreError } from '../errors';
import type { AcquireAttempt, HandOverResult, LockStore } from '../interfaces/lock-store.interface';
import { FENCE_RETENTION } from '../redis-lock.constants';
import { BoundedCalls } from './bounded-calls';
import type { RedisConnection } from './create-redis-client';
import { ACQUIRE_SCRIPT, EXTEND_SCRIPT, HAND_OVER_SCRIPT, RELEASE_SCRIPT } from './lua-scripts';
import { ReleaseSubscriber } from './release-subscriber';
import { fenceKeyOf, releaseChannelOf } from './store-keys';

/** Command names added to the client; versioned so a changed script never meets an old definition. */
const ACQUIRE = 'nestRedisLockAcquireV3';
const EXTEND = 'nestRedisLockExtendV1';
const RELEASE = 'nestRedisLockReleaseV2';
const HAND_OVER = 'nestRedisLockHandOverV3';

type ScriptCommand = (numberOfKeys: number, ...args: (string | number)[]) => Promise<unknown>;

/** Locks in one Redis (or one Redis Cluster), each step one atomic script sent as EVALSHA. */
export class RedisStore implements LockStore {
  private closed = false;
  private readonly subscriber: ReleaseSubscriber;
  private readonly calls: BoundedCalls;

  constructor(
    private readonly client: RedisConnection,
    /** Whether we created the client (and so close it); a user's client is never closed. */
    private readonly owned: boolean,
    /** Bound on one Redis call, in ms. */
    timeout: number,
    private readonly logger: Logger,
  ) {
    const commands = client as unknown as Record<string, unknown>;
    if (typeof commands[ACQUIRE] !== 'function') client.defineCommand(ACQUIRE, { lua: ACQUIRE_SCRIPT });
    if (typeof commands[EXTEND] !== 'function') client.defineCommand(EXTEND, { lua: EXTEND_SCRIPT });
    if (typeof commands[RELEASE] !== 'function') client.defineCommand(RELEASE, { lua: RELEASE_SCRIPT });
    if (typeof commands[HAND_OVER] !== 'function') client.defineCommand(HAND_OVER, { lua: HAND_OVER_SCRIPT });
    this.calls = new BoundedCalls(timeout);
    this.subscriber = new ReleaseSubscriber(client, this.calls, logger);
  }

  async tryAcquire(keys: readonly string[], token: string, ttl: number): Promise<AcquireAttempt> {
    try {
      const reply = Number(await this.call('acquire', ACQUIRE, withFenceKeys(keys), [token, ttl, ttl + FENCE_RETENTION]));
      return reply > 0 ? { fence: reply } : { fence: null, remaining: -reply };
    } catch (error) {
      // A timed-out acquire may still run later (ioredis' offline queue keeps it). Its cleanup is
      // queued behind it on the same connection, and only ever deletes what this token owns.
      if (!this.closed) this.call('release', RELEASE, keys, [token]).catch(() => undefined);
      throw error;
    }
  }

  async extend(keys: readonly string[], token: string, ttl: number): Promise<boolean> {
    return Number(await this.call('extend', EXTEND, keys, [token, ttl])) === 1;
  }

  async release(keys: readonly string[], token: string): Promise<boolean> {
    return Number(await this.call('release', RELEASE, keys, [token])) === 1;
  }

  async handOver(keys: readonly string[], fromToken: string, toToken: string, ttl: number): Promise<HandOverResult> {
    const reply = (await this.call('handOver', HAND_OVER, withFenceKeys(keys), [fromToken, toToken, ttl, ttl + FENCE_RETENTION])) as [
      number | string,
      number | string,
    ];
    const fence = Number(reply[1]);
    return { owned: Number(reply[0]) === 1, fence: fence > 0 ? fence : null };
  }

  async isLocked(keys: readonly string[]): Promise<boolean> {
    this.assertOpen();
    const count = await this.calls.run('isLocked', () => this.client.exists(...keys));
    return count > 0;
  }

  onRelease(keys: readonly string[], listener: () => void): Promise<() => void> {
    this.assertOpen();
    return this.subscriber.listen(keys.map(releaseChannelOf), listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber.close();
    if (!this.owned) return;
    if (this.client.status === 'ready') {
      try {
        await this.calls.run('quit', () => this.client.quit());
        return;
      } catch (error) {
        this.logger.warn(`Closing the Redis connection failed, disconnecting: ${(error as Error).message}`);
      }
    }
    this.client.disconnect();
  }

  private call(operation: string, command: string, keys: readonly string[], args: (string | number)[]) {
    this.assertOpen();
    const script = (this.client as unknown as Record<string, ScriptCommand>)[command]!;
    return this.calls.run(operation, () => script.call(this.client, keys.length, ...keys, ...args));
  }

  private assertOpen(): void {
    if (this.closed) throw LockStoreError.closed();
  }
}

function withFenceKeys(keys: readonly string[]): string[] {
  return [...keys, ...keys.map(fenceKeyOf)];
}
