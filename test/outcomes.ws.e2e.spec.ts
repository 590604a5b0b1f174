import { type INestApplication, UseFilters } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { type Socket, io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockExceptionFilter, LockService, WithLock } from '../lib';
import { CapturedLogger } from './support/captured-logger';
import { startHttpApp } from './support/http-app';
import { RedisServer } from './support/redis-server';

// Nest applies no global filter to gateways: the filter is put on the gateway, for its undecorated handlers.
@WebSocketGateway()
@UseFilters(LockExceptionFilter)
class StockGateway {
  constructor(private readonly locks: LockService) {}

  // Templates read the message data's fields.
  @SubscribeMessage('reserve')
  @WithLock('sku:{sku}', { wait: 0 })
  reserve(@MessageBody() data: { sku: string }) {
    return { reserved: data.sku };
  }

  // A factory receives the message data first.
  @SubscribeMessage('reserveBy')
  @WithLock((data: { sku: string }) => `sku:${data.sku}`, { wait: 0 })
  reserveBy(@MessageBody() data: { sku: string }) {
    return { reserved: data.sku };
  }

  // Undecorated: the gateway's LockExceptionFilter answers.
  @SubscribeMessage('plain')
  plain(@MessageBody() data: { sku: string }) {
    return this.locks.withLock(`plain:${data.sku}`, () => ({ reserved: data.sku }), { wait: 0 });
  }
}

const busy = (lock: string) => ({
  status: 'error',
  code: 'LOCK_BUSY',
  message: expect.stringContaining(`"${lock}" is held by another owner`),
  lock,
});

describe('lock outcomes over WebSockets (socket.io)', () => {
  let server: RedisServer;
  let app: INestApplication;
  let locks: LockService;
  let socket: Socket;
  const exceptions: unknown[] = [];
  const logger = new CapturedLogger();

  beforeAll(async () => {
    server = await RedisServer.start();
    let url: string;
    ({ app, url, locks } = await startHttpApp(
      'express',
      { redis: server.url },
      { providers: [StockGateway] },
      logger,
    ));
    socket = io(url, { transports: ['websocket'], reconnection: false });
    socket.on('exception', (payload: unknown) => exceptions.push(payload));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  });

  afterAll(async () => {
    socket?.close();
    await app?.close();
    await server?.stop();
  });

  const ask = (event: string, data: unknown) => socket.timeout(5_000).emitWithAck(event, data);
  const nextException = () =>
    new Promise<unknown>((resolve) => socket.once('exception', resolve));

  it('a busy message is answered in its ack and in the exception event, with the code and the key', async () => {
    const held = await locks.acquire('sku:apple');
    for (const event of ['reserve', 'reserveBy']) {
      const exception = nextException();
      expect(await ask(event, { sku: 'apple' })).toEqual(busy('sku:apple'));
      expect(await exception).toEqual(busy('sku:apple'));
    }
    await held.release();
    expect(await ask('reserve', { sku: 'apple' })).toEqual({ reserved: 'apple' });
    expect(logger.texts('error')).toEqual([]);
  });

  it('a busy message sent without an ack gets the exception event', async () => {
    const held = await locks.acquire('sku:pear');
    const exception = nextException();
    socket.emit('reserve', { sku: 'pear' });
    expect(await exception).toEqual(busy('sku:pear'));
    await held.release();
  });

  it('a busy withLock in an undecorated handler is answered by the filter on the gateway', async () => {
    const held = await locks.acquire('plain:fig');
    expect(await ask('plain', { sku: 'fig' })).toEqual(busy('plain:fig'));
    await held.release();
    expect(await ask('plain', { sku: 'fig' })).toEqual({ reserved: 'fig' });
    expect(logger.texts('error')).toEqual([]);
  });
});
