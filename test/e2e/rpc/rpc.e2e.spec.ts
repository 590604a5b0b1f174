import { setTimeout as sleepFor } from 'node:timers/promises';
import { Controller, type INestMicroservice } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockService, RedisLockModule, WithLock } from '../../../lib';
import { ExclusionProbe } from '../../support/exclusion-probe';
import { RedisServer, freePort } from '../../support/redis-server';
import { sleep, waitFor } from '../../support/wait-for';

const seen = { probe: new ExclusionProbe(), holds: 0 };

@Controller()
class StockHandler {
  constructor(private readonly locks: LockService) {}

  // The key comes from the message data: `{sku}` reads data.sku.
  @MessagePattern('reserve')
  @WithLock('sku:{sku}', { wait: 10_000 })
  async reserve(@Payload() data: { sku: string }) {
    await seen.probe.increment();
    return { sku: data.sku, held: await this.locks.isLocked(`sku:${data.sku}`) };
  }

  @MessagePattern('hold')
  @WithLock((data: { sku: string }) => `hold:${data.sku}`, { wait: 0 })
  async hold(@Payload() data: { sku: string; ms: number }) {
    seen.holds++;
    await sleep(data.ms);
    return 'done';
  }

  // A read lock: busy answers as a busy mutex does.
  @MessagePattern('read')
  @WithLock('doc:{id}', { mode: 'read', wait: 0 })
  read(@Payload() data: { id: string }) {
    return { read: data.id };
  }

  // Undecorated, no filter registered by the app: the module's global LockExceptionFilter answers.
  @MessagePattern('plain')
  plain(@Payload() data: { sku: string }) {
    return this.locks.withLock(`plain:${data.sku}`, () => 'done', { wait: 0 });
  }

  // Passes the lock's signal on: a lost lock stops it with an AbortError whose cause is the LockLostError.
  @MessagePattern('work')
  @WithLock('work:{sku}', { ttl: 300 })
  work() {
    return sleepFor(20_000, 'done', { signal: this.locks.current()!.signal });
  }
}

describe('@WithLock on an RPC handler (TCP microservice)', () => {
  let server: RedisServer;
  let app: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    server = await RedisServer.start();
    const port = await freePort();
    const module = await Test.createTestingModule({
      imports: [RedisLockModule.forRoot({ redis: server.url })],
      controllers: [StockHandler],
    }).compile();
    app = module.createNestMicroservice({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await app.listen();
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await server?.stop();
  });

  it('locks on a key read from the message data; concurrent messages are serialised', async () => {
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => firstValueFrom(client.send('reserve', { sku: 'apple' }))),
    );
    expect(replies).toEqual(Array(10).fill({ sku: 'apple', held: true }));
    expect(seen.probe.count).toBe(10);
    expect(seen.probe.overlaps).toBe(0);
  });

  it('a busy lock fails the message (wait: 0), and the lock is free again after the first one', async () => {
    const first = firstValueFrom(client.send('hold', { sku: 'pear', ms: 300 }));
    await sleep(100);
    // The LockExceptionFilter @WithLock attaches answers in Nest's RPC error shape, with the code and key.
    const busy = await firstValueFrom(client.send('hold', { sku: 'pear', ms: 0 })).catch((e: unknown) => e);
    expect(busy).toEqual({
      status: 'error',
      code: 'LOCK_BUSY',
      message: expect.stringContaining('"hold:pear" is held by another owner'),
      lock: 'hold:pear',
    });
    expect(seen.holds).toBe(1); // the busy message never ran its handler
    expect(await first).toBe('done');
    expect(await firstValueFrom(client.send('hold', { sku: 'pear', ms: 0 }))).toBe('done');
  });

  it('a busy read lock fails the message as a busy mutex does, with the code and key', async () => {
    const locks = app.get(LockService);
    const writer = await locks.acquire('doc:1', { mode: 'write' });
    const busy = await firstValueFrom(client.send('read', { id: '1' })).catch((e: unknown) => e);
    expect(busy).toMatchObject({ status: 'error', code: 'LOCK_BUSY', lock: 'doc:1' });
    await writer.release();
    const reader = await locks.acquire('doc:1', { mode: 'read' });
    expect(await firstValueFrom(client.send('read', { id: '1' }))).toEqual({ read: '1' });
    await reader.release();
  });

  it('a busy withLock in an undecorated handler is answered with the code and key, with no filter registered', async () => {
    const held = await app.get(LockService).acquire('plain:fig');
    const busy = await firstValueFrom(client.send('plain', { sku: 'fig' })).catch((e: unknown) => e);
    expect(busy).toMatchObject({ status: 'error', code: 'LOCK_BUSY', lock: 'plain:fig' });
    await held.release();
    expect(await firstValueFrom(client.send('plain', { sku: 'fig' }))).toBe('done');
  });

  it('a handler stopped by a lost lock is answered LOCK_LOST', async () => {
    const locks = app.get(LockService);
    const reply = firstValueFrom(client.send('work', { sku: 'kiwi' })).catch((e: unknown) => e);
    await waitFor(() => locks.isLocked('work:kiwi'));
    await server.client().del('lock:{work:kiwi}');
    expect(await reply).toEqual({
      status: 'error',
      code: 'LOCK_LOST',
      message: 'Lock "work:kiwi" was lost before the work finished',
      lock: 'work:kiwi',
    });
  });
});
