import type { ModuleMetadata } from '@nestjs/common';
import type { RedisLockModuleOptions } from '../../lib';
import { CapturedLogger } from './captured-logger';
import { type AdapterName, startHttpApp } from './http-app';
import { RedisServer } from './redis-server';

/** A real Nest HTTP app on its own redis-server, logging into a CapturedLogger; `stop()` ends both. */
export async function startLoggedApp(
  adapter: AdapterName,
  metadata: ModuleMetadata,
  options: RedisLockModuleOptions = {},
) {
  const server = await RedisServer.start();
  const logger = new CapturedLogger();
  const started = await startHttpApp(adapter, { redis: server.url, ...options }, metadata, logger);
  const stop = async () => {
    server.resume(); // a test may have left it paused
    await started.app.close();
    await server.stop();
  };
  return { ...started, server, logger, stop };
}

export type LoggedApp = Awaited<ReturnType<typeof startLoggedApp>>;
