import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { describeStore } from './lock-store.config';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const logger = new Logger('SampleApp');
  logger.log(`Locks use ${describeStore()}`);
  logger.log(`Listening on http://localhost:${port}`);
  logger.log(
    'Try: curl -X POST localhost:' +
      port +
      '/orders/1/pay  (twice at once: the second gets 409), ' +
      'curl -X POST localhost:' +
      port +
      '/reports/daily, curl -X POST localhost:' +
      port +
      '/inventory/apple/reserve, ' +
      'curl -X POST localhost:' +
      port +
      '/jobs/cleanup, curl -N localhost:' +
      port +
      '/feed/news',
  );
}

void bootstrap();
