import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockLostError, LockService, LockStoreError, RedisLockModule, type RedisLockModuleOptions } from '../../lib';
import { recordCommands } from '../support/command-recorder';
import { RedisServer } from '../support/redis-server';
import { lockModule } from '../support/stores';
import { sleep, timersAndSockets, waitFor } from '../support/wait-for';

async function clientCount(client: Redis): Promise<number> {
  const list = (await client.client('LIST')) as string;
  return list.trim().split('\n').length;
}

describe('RedisLockModule', () => {
  let server: RedisServer;
  let admin: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    admin = server.client();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('forRootAsync with useFactory and inject', async () => {
    @Injectable()
    class Config {
      readonly url = server.url;
    }
    @Module({ providers: [Config], exports: [Config] })
    class ConfigModule {}
    const module = await Test.createTestingModule({
      imports: [
        RedisLockModule.forRootAsync({
          imports: [ConfigModule],
          inject: [Config],
          useFactory: (config: Config): RedisLockModuleOptions => ({ redis: config.url, keyPrefix: 'async:' }),
        }),
      ],
    }).compile();
    await module.init();
    const lock = await module.get(LockService).acquire('a');
    expect(await admin.get('async:{a}')).toBe(`${lock.token} ${lock.fence}`);
    await lock.release();
    await module.close();
  });

  it('forRootAsync with useClass', async () => {
    @Injectable()
    class LockConfig {
      create(): RedisLockModuleOptions {
        return { store: 'memory', ttl: 1_234 };
      }
    }
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRootAsync({ useClass: LockConfig })],
    }).compile();
    await module.init();
    const locks = module.get(LockService);
    const lock = await locks.acquire('c');
    expect(lock.expiresAt - Date.now()).toBeLessThanOrEqual(1_234);
    expect(lock.expiresAt - Date.now()).toBeGreaterThan(1_000);
    await lock.release();
    await module.close();
  });

  it('forRootAsync with useExisting', async () => {
    @Injectable()
    class SharedConfig {
      create(): RedisLockModuleOptions {
        return { store: 'memory', keyPrefix: 'existing:' };
      }
    }
    @Module({ providers: [SharedConfig], exports: [SharedConfig] })
    class SharedConfigModule {}
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRootAsync({ imports: [SharedConfigModule], useExisting: SharedConfig })],
    }).compile();
    await module.init();
    const locks = module.get(LockService);
    const lock = await locks.acquire('e');
    expect(await locks.tryAcquire('e')).toBeNull();
    await lock.release();
    await module.close();
  });

  it('isGlobal makes LockService injectable in modules that do not import it', async () => {
    @Injectable()
    class Feature {
      constructor(readonly locks: LockService) {}
    }
    @Module({ providers: [Feature] })
    class FeatureModule {}
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRoot({ store: 'memory', isGlobal: true }), FeatureModule],
    }).compile();
    await module.init();
    expect(module.get(Feature).locks).toBeInstanceOf(LockService);
    await module.close();
  });

  it("uses a user's client as is and never closes it", async () => {
    const client = server.client();
    const { module, locks } = await lockModule({ redis: client, shutdownGrace: 0 });
    const lock = await locks.acquire('user-client');
    await module.close();
    expect(client.status).toBe('ready');
    expect(await client.exists('lock:{user-client}')).toBe(0); // released on shutdown
    expect(lock.held).toBe(false);
  });

  it('closes the connection it created on shutdown', async () => {
    const before = await clientCount(admin);
    const { module, locks } = await lockModule({ redis: server.url });
    await locks.isLocked('x');
    expect(await clientCount(admin)).toBe(before + 1);
    await module.close();
    await waitFor(async () => (await clientCount(admin)) === before, 2_000);
  });

  it('with shutdownGrace 0, shutdown releases held locks at once, tells their holders, and leaves no timers or sockets', async () => {
    const before = timersAndSockets();
    const { module, locks } = await lockModule({ redis: server.url, shutdownGrace: 0 });
    const lock = await locks.acquire('shutdown', { ttl: 60_000 });
    await module.close();
    expect(lock.signal.aborted).toBe(true);
    expect((lock.signal.reason as LockLostError).reason).toBe('shutdown');
    expect(await admin.exists('lock:{shutdown}')).toBe(0);
    await waitFor(() => timersAndSockets() <= before, 2_000);
  });

  it('when the store closes, callers still waiting for a lock fail at once with LockStoreError', async () => {
    const other = await lockModule({ redis: server.url });
    const { module, locks } = await lockModule({ redis: server.url });
    const holder = await other.locks.acquire('busy-at-shutdown');
    const waiting = locks.acquire('busy-at-shutdown', { wait: 60_000 }).catch((error: unknown) => error);
    await sleep(50);
    const started = Date.now();
    await module.close();
    expect(await waiting).toBeInstanceOf(LockStoreError);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(holder.held).toBe(true);
    await holder.release();
    await other.module.close();
  });

  it('uncontended acquire + release is two EVALSHA round trips and nothing else', async () => {
    const { module, locks } = await lockModule({ redis: server.url });
    await (await locks.acquire('warm')).release(); // connects and loads the scripts once
    const recorder = await recordCommands(server);
    const lock = await locks.acquire('hot', { autoRenew: true });
    await lock.release();
    expect(await recorder.stop()).toEqual(['evalsha', 'evalsha']);
    await module.close();
  });

  it('keeps working after Redis restarts with a fresh script cache', async () => {
    const { module, locks } = await lockModule({ redis: server.url });
    await (await locks.acquire('before-restart')).release();
    await admin.script('FLUSH');
    const lock = await locks.acquire('after-flush');
    expect(await lock.release()).toBe(true);
    await module.close();
    await waitFor(async () => true);
  });
});
