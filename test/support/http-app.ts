import type { INestApplication, LoggerService, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { LockService, RedisLockModule, type RedisLockModuleOptions } from '../../lib';

export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** A real Nest HTTP app on a free loopback port, on Express or Fastify. */
export async function startHttpApp(
  adapter: AdapterName,
  options: RedisLockModuleOptions,
  metadata: ModuleMetadata,
  logger: LoggerService | false = false,
): Promise<{ app: INestApplication; url: string; locks: LockService }> {
  const module = await Test.createTestingModule({
    ...metadata,
    imports: [RedisLockModule.forRoot(options), ...(metadata.imports ?? [])],
  }).compile();
  const app =
    adapter === 'fastify'
      ? module.createNestApplication(new FastifyAdapter(), { logger })
      : module.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}`, locks: app.get(LockService) };
}
