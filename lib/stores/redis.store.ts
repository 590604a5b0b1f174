import type { Logger } from '@nestjs/common';
import { LockStoreError } from '../errors';
import type { LockStore } from '../interfaces/lock-store.interface';
import { abortableSleep } from '../utils/abortable-sleep';
import { withTimeout } from '../utils/with-timeout';
import type { RedisConnection } from './create-redis-client';
import { ACQUIRE_SCRIPT, EXTEND_SCRIPT, RELEASE_SCRIPT } from './lua-scripts';
import { fenceKeyOf } from './store-keys';

/** Command names added to the client; versioned so a changed script never meets an old definition. */
const ACQUIRE = 'nestRedisLockAcquireV1';
const EXTEND = 'nestRedisLockExtendV1';
const RELEASE = 'nestRedisLockReleaseV1';

type ScriptCommand = (numberOfKeys: number, ...args: (string | number)[]) => Promise<unknown>;

/** Locks in one Redis (or one Redis Cluster), each step one atomic script sent as EVALSHA. */
export class RedisStore implements LockStore {
  private closed = false;

  constructor(
    private readonly client: RedisConnection,
    /** Whether we created the client (and so close it); a user's client is never closed. */
    private readonly owned: boolean,
    /** Bound on one Redis call, in ms. */
    private readonly timeout: number,
    private readonly logger: Logger,
  ) {
    const commands = client as unknown as Record<string, unknown>;
    if (typeof commands[ACQUIRE] !== 'function') client.defineCommand(ACQUIRE, { lua: ACQUIRE_SCRIPT });
    if (typeof commands[EXTEND] !== 'function') client.defineCommand(EXTEND, { lua: EXTEND_SCRIPT });
    if (typeof commands[RELEASE] !== 'function') client.defineCommand(RELEASE, { lua: RELEASE_SCRIPT });
  }

  async tryAcquire(keys: readonly string[], token: string, ttl: number): Promise<number | null> {
    const fenceKeys = keys.map(fenceKeyOf);
    try {
      const reply = await this.call('acquire', ACQUIRE, [...keys, ...fenceKeys], [token, ttl]);
      const fence = Number(reply);
      return fence > 0 ? fence : null;
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

  async isLocked(keys: readonly string[]): Promise<boolean> {
    this.assertOpen();
    const count = await withTimeout('isLocked', this.timeout, () => this.client.exists(...keys));
    return count > 0;
  }

  waitForRelease(_keys: readonly string[], maxMs: number, signal?: AbortSignal): Promise<void> {
    return abortableSleep(maxMs, signal);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.owned) return;
    if (this.client.status === 'ready') {
      try {
        await withTimeout('quit', this.timeout, () => this.client.quit());
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
    return withTimeout(operation, this.timeout, () => script.call(this.client, keys.length, ...keys, ...args));
  }

  private assertOpen(): void {
    if (this.closed) throw LockStoreError.closed();
  }
}
