import 'reflect-metadata';
import { Controller, Get } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { CurrentLock, type Lock, WithLock } from '../../lib';
import type { DrainEvent } from './drain-protocol';
import { type AdapterName, startHttpApp } from './http-app';

/**
 * An HTTP app in its own process for test/drain.http.spec.ts, on ADAPTER (express or fastify) and
 * REDIS_URL, with `enableShutdownHooks()`: the test sends it SIGTERM while a request runs under
 * @WithLock. SHUTDOWN_GRACE sets the module's `shutdownGrace` when given.
 */
const send = (event: DrainEvent) => process.send?.(event);
process.on('unhandledRejection', (error) => send({ event: 'unhandled', message: String(error) }));
process.on('uncaughtException', (error) => send({ event: 'unhandled', message: String(error) }));

/** When this process received SIGTERM (performance.now()), for the handlers to report timings. */
let sigtermAt: number | undefined;
process.on('SIGTERM', () => (sigtermAt ??= performance.now()));

const sinceSigterm = () => (sigtermAt === undefined ? null : Math.round(performance.now() - sigtermAt));

@Controller('drain')
class DrainController {
  /** About a second of work that never looks at its lock's signal. */
  @Get('finishes')
  @WithLock('drain-http:finishes', { wait: 0 })
  async finishes(): Promise<{ done: true; sinceSigterm: number | null }> {
    send({ event: 'entered', route: 'finishes' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return { done: true, sinceSigterm: sinceSigterm() };
  }

  /** Work that would take a minute and stops when its lock's signal aborts; answers with why. */
  @Get('outlives')
  @WithLock('drain-http:outlives', { wait: 0 })
  async outlives(@CurrentLock() lock: Lock): Promise<{ aborted: unknown; error: string; sinceSigterm: number | null }> {
    send({ event: 'entered', route: 'outlives' });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, 60_000);
        lock.signal.addEventListener('abort', () => (clearTimeout(timer), reject(lock.signal.reason)), { once: true });
      });
      return { aborted: null, error: '', sinceSigterm: sinceSigterm() };
    } catch (error) {
      const { name, reason } = error as { name: string; reason?: unknown };
      return { aborted: reason, error: name, sinceSigterm: sinceSigterm() };
    }
  }
}

async function main(): Promise<void> {
  const grace = process.env.SHUTDOWN_GRACE;
  const { app, url } = await startHttpApp(
    process.env.ADAPTER as AdapterName,
    { redis: process.env.REDIS_URL!, ...(grace === undefined ? {} : { shutdownGrace: Number(grace) }) },
    { controllers: [DrainController] },
  );
  // SIGTERM runs app.close(), then process.exit(0) (Nest's default would re-raise the signal instead).
  app.enableShutdownHooks(['SIGTERM'], { useProcessExit: true });
  send({ event: 'ready', url });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
