import { Cluster, type Redis } from 'ioredis';
import type { TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockArgumentError, type LockService, LockStoreError } from '../../lib';
import { validateModuleOptions } from '../../lib/nest/options/validate-module-options';
import { recordCommands } from '../support/command-recorder';
import { FaultProxy, commandNamed } from '../support/fault-proxy';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { acknowledgedOnce } from '../support/redis-sentinel';
import { sleep, waitFor } from '../support/wait-for';

/** WAIT's bound in these tests: short, so a missing replica fails an attempt quickly. */
const ACK_TIMEOUT = 300;

async function replicaOnline(master: Redis): Promise<void> {
  await waitFor(async () => (await master.info('replication')).includes('state=online'), 15_000, 50);
  await acknowledgedOnce(master);
}

describe('waitForReplicas: a grant counts once replicas acknowledged it', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let admin: Redis;
  let module: TestingModule;
  let locks: LockService;

  beforeAll(async () => {
    master = await RedisServer.start();
    replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
    admin = master.client();
    await replicaOnline(admin);
    ({ module, locks } = await lockModule({
      redis: master.url,
      waitForReplicas: { replicas: 1, timeout: ACK_TIMEOUT },
      storeTimeout: 2_000,
    }));
  }, 30_000);

  afterAll(async () => {
    await module?.close();
    await replica?.stop();
    await master?.stop();
  });

  it('acquires while the replica acknowledges, and the replica has the lock', async () => {
    const lock = await locks.acquire('acked');
    expect(await replica.client().get('lock:{acked}')).toBe(`${lock.token} ${lock.fence}`);
    expect(await lock.release()).toBe(true);
  });

  it('sends WAIT right behind a grant, on the connection that ran the script; none for a busy answer', async () => {
    await (await locks.acquire('warm')).release(); // connects and loads the scripts once
    const recorder = await recordCommands(master);
    const lock = await locks.acquire('recorded');
    expect(await locks.tryAcquire('recorded')).toBeNull();
    await lock.release();
    expect(await recorder.stop()).toEqual(['evalsha', 'wait', 'evalsha', 'evalsha']);
    expect(recorder.sources[1]).toBe(recorder.sources[0]);
  });

  it('replica stopped: acquisitions and hand-overs fail with LockStoreError and leave nothing held; replica back: they succeed', async () => {
    const holder = await locks.acquire('handed');
    // Queued in the same process: the holder's release hands the lock straight to it.
    const receiver = locks.acquire('handed', { wait: 1_500 });
    await sleep(50);
    await replica.kill();
    await waitFor(async () => (await admin.info('replication')).includes('connected_slaves:0'), 5_000, 20);

    const failed = await locks.acquire('fresh', { wait: 0 }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(LockStoreError);
    expect((failed as Error).message).toMatch(/only 0 of 1 replica\(s\) acknowledged the acquire within 300 ms/);
    await waitFor(async () => (await admin.exists('lock:{fresh}')) === 0, 2_000);

    expect(await holder.release()).toBe(true);
    // The hand-over's grant was undone; the receiver then tried itself, under the same rule.
    const outcome = await receiver.catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(LockStoreError);
    await waitFor(async () => (await admin.exists('lock:{handed}')) === 0, 2_000);

    await replica.restart();
    await replicaOnline(admin);
    const lock = await locks.acquire('fresh', { wait: 0 });
    expect(await replica.client().get('lock:{fresh}')).toBe(`${lock.token} ${lock.fence}`);
    await lock.release();
  }, 30_000);

  it('a WAIT whose reply is lost with the connection is resent, still counts too few, and the grant is undone', async () => {
    const proxy = await FaultProxy.start(master.port);
    const proxied = await lockModule({
      redis: proxy.url,
      waitForReplicas: { replicas: 1, timeout: ACK_TIMEOUT },
      storeTimeout: 2_000,
    });
    try {
      await proxied.locks.isLocked('warm-up');
      // A frozen replica stays connected but acknowledges nothing: the WAIT behind the grant
      // answers 0, its reply is lost with the connection, and ioredis resends it on a new one
      // (which made no write of its own: the resent WAIT must still not count the frozen replica).
      replica.pause();
      const drop = proxy.dropReplyOnce(commandNamed('wait'));
      const outcome = await proxied.locks.acquire('resent-wait', { wait: 0 }).catch((error: unknown) => error);
      expect(drop.replies).toBe(1);
      expect(drop.requests).toBe(2);
      expect(outcome).toBeInstanceOf(LockStoreError);
      await waitFor(async () => (await admin.exists('lock:{resent-wait}')) === 0, 2_000);
    } finally {
      replica.resume();
      await proxied.module.close();
      await proxy.close();
    }
  });

  it('is refused at bootstrap on a Cluster, on the memory store, and with a WAIT as long as storeTimeout', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    const refused = (options: Parameters<typeof validateModuleOptions>[0]) => {
      try {
        validateModuleOptions(options);
      } catch (error) {
        expect(error).toBeInstanceOf(LockArgumentError);
        return (error as LockArgumentError).argument;
      }
      throw new Error('accepted');
    };
    const waitForReplicas = { replicas: 1, timeout: 100 };
    expect(refused({ redis: cluster, waitForReplicas })).toBe('options.waitForReplicas');
    expect(refused({ store: 'memory', waitForReplicas })).toBe('options.waitForReplicas');
    expect(refused({ storeTimeout: 100, waitForReplicas })).toBe('options.waitForReplicas.timeout');
    expect(refused({ waitForReplicas: { replicas: 0, timeout: 100 } })).toBe('options.waitForReplicas.replicas');
    expect(refused({ waitForReplicas: { replicas: 1, timeout: 100, extra: 1 } as never })).toBe(
      'options.waitForReplicas.extra',
    );
    cluster.disconnect();
  });
});
