import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockService } from '../../lib';
import { WRITE_BATCH } from '../../lib/core/tuning';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';

/**
 * Commands sent while others are in flight share socket writes (WriteCoalescer); a command sent
 * alone leaves at once. Counted on the server: Redis' total_reads_processed grows by one per
 * read event on a connection, so a batch of commands in one write is one read.
 */
describe('write coalescing (a real redis-server counts its reads)', () => {
  let server: RedisServer;
  let close: () => Promise<void>;
  let locks: LockService;

  beforeAll(async () => {
    server = await RedisServer.start();
    const started = await lockModule({ redis: server.url });
    locks = started.locks;
    close = () => started.module.close();
    await (await locks.acquire('warm-up')).release();
  });

  afterAll(async () => {
    await close?.();
    await server?.stop();
  });

  /** Reads the server processed while `work` ran (less the INFO call that measures them). */
  async function readsDuring(work: () => Promise<void>): Promise<number> {
    const admin = server.client();
    try {
      const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await admin.info('stats'))![1]);
      const before = await reads();
      await work();
      return (await reads()) - before - 1;
    } finally {
      admin.disconnect();
    }
  }

  /** `callers` concurrent callers, each taking and releasing `each` locks of its own: 2 commands a lock. */
  const takeAndRelease = (callers: number, each: number, tag: string) => async () => {
    await Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        for (let i = 0; i < each; i++) await (await locks.acquire(`${tag}:${caller}:${i}`, { wait: 0 })).release();
      }),
    );
  };

  it('one caller at a time: every command leaves at once, in a write of its own', async () => {
    const reads = await readsDuring(takeAndRelease(1, 20, 'alone'));
    expect(reads).toBe(40);
  });

  it(`64 concurrent callers: commands leave in batches of up to ${WRITE_BATCH}, several times fewer writes than commands`, async () => {
    const commands = 64 * 20 * 2;
    const reads = await readsDuring(takeAndRelease(64, 20, 'crowd'));
    // Batched: about commands / WRITE_BATCH (fewer when the kernel merges writes that arrive
    // together). Written one by one: about half the commands.
    expect(reads).toBeLessThan(commands / 6);
  });
});
