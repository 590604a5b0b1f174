import { get as httpGet } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DrainChildren, compileDrainChildren } from '../../support/drain-children';
import { ADAPTERS } from '../../support/http-app';
import { RedisServer } from '../../support/redis-server';
import { sleep } from '../../support/wait-for';

/**
 * Deploys drain instead of abort, over HTTP: an app in its own process (test/support/
 * drain-http-app.ts, `enableShutdownHooks()`) gets SIGTERM while a request runs under @WithLock.
 * Nest then runs beforeApplicationShutdown, closes the HTTP server (which waits for requests in
 * flight), and runs onApplicationShutdown: the lock must stay held through that drain.
 */
/**
 * One GET without keep-alive (`agent: false` sends `Connection: close`). A kept-alive socket left
 * idle after the response would hold the server's close open until its keep-alive timeout
 * (Fastify: 72 s), whatever the lock does.
 */
function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('drain on deploy: SIGTERM with a request under @WithLock in flight', () => {
  let children: DrainChildren;
  let server: RedisServer;

  /** Starts the app on `adapter` and sends one GET to /drain/<route>. */
  const requestDuringShutdown = async (adapter: string, route: string, env: Record<string, string> = {}) => {
    const app = await children.start('drain-http-app', { REDIS_URL: server.url, ADAPTER: adapter, ...env });
    const state = { answered: false };
    const response = get(`${app.url}/drain/${route}`).finally(() => (state.answered = true));
    await app.next('entered');
    app.signal('SIGTERM');
    return { app, response, state };
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    children = await compileDrainChildren();
  }, 120_000);

  afterEach(async () => {
    await children.endAll();
    await server.client().flushall();
  });

  afterAll(async () => {
    await children?.close();
    await server?.stop();
  });

  describe.each(ADAPTERS)('%s', (adapter) => {
    it('a handler that ignores its signal finishes with 200, holding its lock until it ends; the process exits 0', async () => {
      const { app, response, state } = await requestDuringShutdown(adapter, 'finishes');

      // Draining: the request (about 1 s) is still running, and its lock is still in Redis.
      await sleep(300);
      expect(state.answered).toBe(false);
      expect(await server.client().exists('lock:{drain-http:finishes}')).toBe(1);

      const { status, body } = await response;
      expect(status).toBe(200);
      expect(body).toMatchObject({ done: true });
      expect(await app.exitWithin(15_000)).toEqual({ code: 0, signal: null });
      expect(await server.client().exists('lock:{drain-http:finishes}')).toBe(0);
      expect(app.unhandled()).toEqual([]);
    }, 60_000);

    it("a handler that outlives shutdownGrace (500 ms) sees its signal abort with reason 'shutdown' then, not before", async () => {
      const { app, response } = await requestDuringShutdown(adapter, 'outlives', { SHUTDOWN_GRACE: '500' });

      // Within the grace period the lock is still held.
      await sleep(150);
      expect(await server.client().exists('lock:{drain-http:outlives}')).toBe(1);

      const { status, body } = await response;
      expect(status).toBe(200);
      expect(body).toMatchObject({ aborted: 'shutdown', error: 'LockLostError' });
      // Aborted at the end of the grace period, measured in the app from its SIGTERM (bounds generous).
      expect(body.sinceSigterm).toBeGreaterThanOrEqual(450);
      expect(body.sinceSigterm).toBeLessThan(10_000);
      expect(await app.exitWithin(15_000)).toEqual({ code: 0, signal: null });
      expect(await server.client().exists('lock:{drain-http:outlives}')).toBe(0);
      expect(app.unhandled()).toEqual([]);
    }, 60_000);
  });
});
