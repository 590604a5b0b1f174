import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { LockService, RedisLockModule } from '../../lib';
import type { LeaderCommand, LeaderEvent } from './leader-protocol';

/**
 * A replica in an OS process of its own (default holderId: host name and this pid), driven over
 * IPC by the leadership tests, which end it with SIGKILL as a crash would.
 */
async function main(): Promise<void> {
  const send = (event: LeaderEvent) => process.send!(event);
  process.on('unhandledRejection', (error) => send({ event: 'unhandled', message: String(error) }));
  process.on('uncaughtException', (error) => send({ event: 'unhandled', message: String(error) }));
  const app = await NestFactory.createApplicationContext(RedisLockModule.forRoot({ redis: process.env.REDIS_URL! }), {
    logger: false,
  });
  const locks = app.get(LockService);
  process.on('message', (command: LeaderCommand) => {
    if (command.cmd === 'campaign') {
      void locks
        .campaign(command.name, { ttl: command.ttl })
        .elected()
        .then((term) => send({ event: 'elected', term }));
    } else if (command.cmd === 'hold') {
      void locks
        .acquire(command.key, { ttl: command.ttl })
        .then((lock) => send({ event: 'holding', fence: lock.fence }));
    } else {
      void app.close().then(() => process.exit(0));
    }
  });
  send({ event: 'ready' });
}

void main();
