import type { LockLogger } from '../../core/lock-logger';
import { QUIT_FAILED } from '../../core/lock.messages';
import type { BoundedCalls } from './bounded-calls';
import type { RedisConnection } from './create-redis-client';

/** Closes a client the store created: QUIT when connected (bounded like every call), else disconnect. */
export async function quitClient(client: RedisConnection, calls: BoundedCalls, logger: LockLogger): Promise<void> {
  if (client.status === 'ready') {
    try {
      await calls.run('quit', () => client.quit());
      return;
    } catch (error) {
      logger.warn(QUIT_FAILED((error as Error).message));
    }
  }
  client.disconnect();
}
