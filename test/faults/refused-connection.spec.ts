import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LockService, LockStoreError } from '../../lib';
import { startHttpApp } from '../support/http-app';
import { FakeAuthGuard, OrdersController, resetState } from '../support/http-fixture';
import { RedisServer } from '../support/redis-server';
import { lockModule, quorumOf } from '../support/stores';
import { waitFor } from '../support/wait-for';

/** The store bound: a refused connection must be answered well before it. */
const STORE_TIMEOUT = 3_000;
/** Generous for a loaded machine, and still a third of the bound. */
const AT_ONCE = 1_000;

/** Resolves once `client` has been refused at least once since the server went down. */
function refusedOnce(client: Redis): Promise<void> {
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNREFUSED') return;
      client.off('error', onError);
      resolve();
    };
    client.on('error', onError);
  });
}

async function timed<T>(work: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

function expectRefusal(error: unknown): void {
  expect(error).toBeInstanceOf(LockStoreError);
  expect((error as LockStoreError).code).toBe('LOCK_UNAVAILABLE');
  expect((error as LockStoreError).message).toMatch(/refused the connection.*ECONNREFUSED/);
  expect(((error as LockStoreError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
}

describe('a refused connection is answered at once, not after storeTimeout', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterEach(() => server.resume());

  afterAll(async () => {
    await server?.stop();
  });

  it('acquire with Redis killed: LockStoreError naming the refusal well before storeTimeout; works after a restart', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const client = new Redis(server.url);
    const app = await lockModule({ redis: client, storeTimeout: STORE_TIMEOUT, wait: 0 });
    try {
      const refused = refusedOnce(client);
      await server.kill();
      try {
        await refused;
        const attempts: (() => Promise<unknown>)[] = [
          () => app.locks.acquire('refused'),
          () => app.locks.tryAcquire('refused'),
          () => app.locks.isLocked('refused'),
        ];
        for (const attempt of attempts) {
          const { error, ms } = await timed(attempt());
          expectRefusal(error);
          expect(ms).toBeLessThan(AT_ONCE);
        }
        // A user's client with no error listener of its own: its outage is logged once, by cause.
        expect(warn).toHaveBeenCalledWith(expect.stringContaining('ECONNREFUSED'));
      } finally {
        await server.restart();
      }
      // Not refused forever: once the client reconnects, the next command goes through.
      await acquiresAgain(app.locks);
    } finally {
      warn.mockRestore();
      await app.module.close();
      client.disconnect();
    }
  });

  it('over HTTP: 503 at once, and the outage warning names the refusal, not a time-out', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const client = new Redis(server.url);
    const { app, url } = await startHttpApp(
      'express',
      { redis: client, storeTimeout: STORE_TIMEOUT },
      {
        controllers: [OrdersController],
        providers: [FakeAuthGuard],
      },
    );
    try {
      resetState();
      const refused = refusedOnce(client);
      await server.kill();
      try {
        await refused;
        const started = performance.now();
        const response = await fetch(`${url}/orders/slow/refused`, { method: 'POST' });
        expect(response.status).toBe(503);
        expect(performance.now() - started).toBeLessThan(AT_ONCE);
        const outage = warn.mock.calls
          .map(([message]) => String(message))
          .find((message) => message.includes('Answering LOCK_UNAVAILABLE'));
        expect(outage).toMatch(/refused the connection \(connect ECONNREFUSED/);
      } finally {
        await server.restart();
      }
    } finally {
      warn.mockRestore();
      await app.close();
      client.disconnect();
    }
  });

  it('a caller already waiting behind a holder keeps waiting through the refusal, and gets the lock after it', async () => {
    const client = new Redis(server.url);
    client.on('error', () => undefined);
    const app = await lockModule({ redis: client, storeTimeout: STORE_TIMEOUT, ttl: 600 });
    try {
      const held = await app.locks.acquire('refused-waiter');
      const waiting = app.locks.acquire('refused-waiter', { wait: 20_000 });
      const refused = refusedOnce(client);
      await server.kill();
      await refused;
      await waitFor(() => held.signal.aborted, 600 + STORE_TIMEOUT);
      await server.restart();
      const next = await waiting;
      expect(next.fence).toBeGreaterThan(held.fence);
      expect(await next.release()).toBe(true);
    } finally {
      await app.module.close();
      client.disconnect();
    }
  });

  it('Redis paused (SIGSTOP) is not a refusal: acquire still fails at about storeTimeout', async () => {
    const app = await lockModule({ redis: server.url, storeTimeout: 1_000, wait: 0 });
    try {
      await app.locks.isLocked('warm'); // connected, so the pause is a silent server, not a refusal
      server.pause();
      const { error, ms } = await timed(app.locks.acquire('paused'));
      expect(error).toBeInstanceOf(LockStoreError);
      expect((error as LockStoreError).message).toContain('did not answer acquire within 1000 ms');
      expect(ms).toBeGreaterThanOrEqual(990);
      expect(ms).toBeLessThan(1_000 + 1_500);
    } finally {
      server.resume();
      await app.module.close();
    }
  });

  it('a quorum with one node refusing answers from the others without waiting for it', async () => {
    const others = await Promise.all([RedisServer.start(), RedisServer.start()]);
    const store = quorumOf([server, ...others], STORE_TIMEOUT);
    try {
      await store.isLocked(['warm']);
      await server.kill();
      // The quorum needs a majority of yes: with one node down it must hear both others, which it
      // does at once; a node whose refusal is known costs nothing. Both nodes down: at once too.
      await others[0]!.kill();
      await new Promise((resolve) => setTimeout(resolve, 300)); // both clients were refused once
      const { error, ms } = await timed(
        store.tryAcquire({ kind: 'mutex', keys: ['{q}'], token: 'token', ttl: 10_000 }),
      );
      expect(error).toBeInstanceOf(LockStoreError);
      expect(String((error as Error).message)).toMatch(/ECONNREFUSED/);
      expect(ms).toBeLessThan(AT_ONCE);
    } finally {
      await store.close();
      await server.restart();
      await Promise.all(others.map((other) => other.stop()));
    }
  });
});

async function acquiresAgain(locks: LockService): Promise<void> {
  await waitFor(
    async () => {
      const next = await locks.tryAcquire('refused').catch(() => null);
      if (next) await next.release();
      return next !== null;
    },
    10_000,
    50,
  );
}
