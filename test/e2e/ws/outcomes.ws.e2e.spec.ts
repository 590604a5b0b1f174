import { UseFilters } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { type Socket, io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockExceptionFilter, LockService, WithLock } from '../../../lib';
import type { CapturedLogger } from '../../support/captured-logger';
import { startLoggedApp } from '../../support/logged-app';

@WebSocketGateway()
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

  // Undecorated: Nest applies no global filter to gateways, so the filter is put on the handler
  // (or the gateway class); @WithLock handlers have it already.
  @SubscribeMessage('plain')
  @UseFilters(LockExceptionFilter)
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
  let started: Awaited<ReturnType<typeof startLoggedApp>>;
  let locks: LockService;
  let logger: CapturedLogger;
  let socket: Socket;

  beforeAll(async () => {
    started = await startLoggedApp('express', { providers: [StockGateway] });
    ({ locks, logger } = started);
    socket = io(started.url, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  });

  afterAll(async () => {
    socket?.close();
    await started?.stop();
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

  it('a busy withLock in an undecorated handler is answered by the filter put on it', async () => {
    const held = await locks.acquire('plain:fig');
    expect(await ask('plain', { sku: 'fig' })).toEqual(busy('plain:fig'));
    await held.release();
    expect(await ask('plain', { sku: 'fig' })).toEqual({ reserved: 'fig' });
    expect(logger.texts('error')).toEqual([]);
  });
});
