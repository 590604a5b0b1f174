import type { TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type LockService, LockStoreError } from '../../lib';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { waitFor } from '../support/wait-for';

/**
 * A user's ioredis client, shared with the lock module, put inside a transaction
 * (`multi({ pipeline: false })` sends MULTI on the client itself): every command sent on it until
 * EXEC or DISCARD is answered QUEUED and has not run. The lock must never read that as a fence or
 * a verdict: each call fails with a LockStoreError saying why, and a grant queued in the
 * transaction is undone behind it, whether the user then runs the transaction or discards it.
 */
describe('a shared client inside a MULTI transaction', () => {
  let server: RedisServer;
  let shared: Redis;
  let observer: Redis;
  let module: TestingModule;
  let locks: LockService;
  /** A second app on its own connection: what "another process" sees. */
  let other: { module: TestingModule; locks: LockService };
  const unhandled: unknown[] = [];
  const onUnhandled = (error: unknown) => void unhandled.push(error);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await RedisServer.start();
    shared = server.client();
    observer = server.client();
    ({ module, locks } = await lockModule({ redis: shared, wait: 0 }));
    other = await lockModule({ redis: server.url, wait: 0 });
  });

  afterEach(async () => {
    // A test that failed half-way must not leave the shared client inside its transaction.
    await shared.discard().catch(() => undefined);
  });

  afterAll(async () => {
    await other?.module.close();
    await module?.close();
    await server?.stop();
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  const inTransaction = (operation: string) =>
    expect.objectContaining({
      code: 'LOCK_UNAVAILABLE',
      message: expect.stringMatching(new RegExp(`during ${operation}: .*QUEUED.*MULTI transaction`)),
    });

  it.each(['exec', 'discard'] as const)(
    'acquire fails with LockStoreError and leaves nothing held after the user’s %s',
    async (end) => {
      expect(await shared.multi({ pipeline: false })).toBe('OK');
      await shared.set('user:write', '1');
      const outcome = await locks.acquire('tx:acquire').catch((error: unknown) => error);
      expect(outcome).toBeInstanceOf(LockStoreError);
      expect(outcome).toEqual(inTransaction('acquire'));
      const ended = end === 'exec' ? await shared.exec() : await shared.discard();
      if (end === 'exec') expect(ended).toHaveLength(3); // the user's SET, our acquire, its undo
      // The grant that ran inside EXEC was undone behind it: the key is free for anyone.
      await waitFor(async () => (await observer.exists('lock:{tx:acquire}')) === 0, 5_000);
      const lock = await other.locks.acquire('tx:acquire');
      expect(lock.fence).toBeGreaterThan(0);
      await lock.release();
    },
  );

  it('tryAcquire, isLocked and a held lock’s extend fail with LockStoreError, and the lock stays held', async () => {
    const held = await locks.acquire('tx:held', { ttl: 5_000 });
    await shared.multi({ pipeline: false });
    await expect(locks.tryAcquire('tx:try')).rejects.toEqual(inTransaction('acquire'));
    await expect(locks.isLocked('tx:held')).rejects.toEqual(inTransaction('isLocked'));
    await expect(held.extend()).rejects.toEqual(inTransaction('extend'));
    await shared.discard();
    // Out of the transaction: the lock is still ours, and its release reaches Redis.
    expect(await observer.get('lock:{tx:held}')).toBe(`${held.token} ${held.fence}`);
    expect(await held.release()).toBe(true);
    expect(await observer.exists('lock:{tx:held}', 'lock:{tx:try}')).toBe(0);
  });

  it('an optimistic hand-over inside a transaction the user discards: the receiver is told at once', async () => {
    const holder = await locks.acquire('tx:hand-over', { ttl: 10_000 });
    // No renewal: only the hand-over's confirmation can tell the receiver it holds nothing.
    const waiting = locks.acquire('tx:hand-over', { wait: 10_000, ttl: 10_000, autoRenew: false });
    await waitFor(async () => (await observer.pubsub('NUMSUB', 'lock:{tx:hand-over}:released'))[1] === 1, 5_000);
    await shared.multi({ pipeline: false });
    const released = holder.release().catch((error: unknown) => error);
    const lock = await waiting; // started inside the giver's lease, on its confirmation's word
    expect(await released).toEqual(inTransaction('handOver'));
    await shared.discard();
    // The confirmation never ran: the receiver's lock is lost well before its 10 s lease ends.
    await waitFor(() => lock.signal.aborted, 3_000);
    expect(lock.signal.reason).toMatchObject({ code: 'LOCK_LOST' });
    expect(await observer.get('lock:{tx:hand-over}')).toBe(`${holder.token} ${holder.fence}`); // the discarded undo: expires on its own
  });
});
