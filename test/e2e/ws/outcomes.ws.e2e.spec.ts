import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { type Socket, io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockService, WithLock } from '../../../lib';
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

  // A counting lock: busy answers as a busy mutex does.
  @SubscribeMessage('export')
  @WithLock('export:{tenantId}', { limit: 2, wait: 0 })
  exportFor(@MessageBody() data: { tenantId: string }) {
    return { exported: data.tenantId };
  }

  // Undecorated, and no filter registered by the app: Nest applies no global filter to gateways,
  // so the module answers through a global interceptor.
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
  const nextException = () => new Promise<unknown>((resolve) => socket.once('exception', resolve));

  it('a busy message is answered in its ack and in the exception event, with the code and the key', async () => {
    let exceptions = 0;
    const count = () => void exceptions++;
    socket.on('exception', count);
    const held = await locks.acquire('sku:apple');
    for (const event of ['reserve', 'reserveBy']) {
      const exception = nextException();
      expect(await ask(event, { sku: 'apple' })).toEqual(busy('sku:apple'));
      expect(await exception).toEqual(busy('sku:apple'));
    }
    await held.release();
    expect(await ask('reserve', { sku: 'apple' })).toEqual({ reserved: 'apple' });
    // Answered once each: by the handler's LockExceptionFilter, not again by the module's default.
    socket.off('exception', count);
    expect(exceptions).toBe(2);
    expect(logger.texts('error')).toEqual([]);
  });

  it('a busy counting lock is answered in the ack and the exception event, as a busy mutex', async () => {
    const permits = [await locks.acquire('export:t1', { limit: 2 }), await locks.acquire('export:t1', { limit: 2 })];
    const exception = nextException();
    expect(await ask('export', { tenantId: 't1' })).toEqual(busy('export:t1'));
    expect(await exception).toEqual(busy('export:t1'));
    await permits[0]!.release();
    expect(await ask('export', { tenantId: 't1' })).toEqual({ exported: 't1' });
    await permits[1]!.release();
  });

  it('a busy message sent without an ack gets the exception event', async () => {
    const held = await locks.acquire('sku:pear');
    const exception = nextException();
    socket.emit('reserve', { sku: 'pear' });
    expect(await exception).toEqual(busy('sku:pear'));
    await held.release();
  });

  it('a busy withLock in an undecorated handler is answered in the ack and the exception event, with no filter registered', async () => {
    const held = await locks.acquire('plain:fig');
    const exception = nextException();
    expect(await ask('plain', { sku: 'fig' })).toEqual(busy('plain:fig'));
    expect(await exception).toEqual(busy('plain:fig'));
    await held.release();
    expect(await ask('plain', { sku: 'fig' })).toEqual({ reserved: 'fig' });
    expect(logger.texts('error')).toEqual([]);
  });
});
