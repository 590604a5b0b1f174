import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LockService } from '../../../lib';
import { expectBusyStream } from '../../support/expect-busy-stream';
import { ADAPTERS, startHttpApp } from '../../support/http-app';
import { FakeAuthGuard, OrdersController, resetState, state } from '../../support/http-fixture';
import { STORES, type StoreRun } from '../../support/stores';
import { sleep, waitFor } from '../../support/wait-for';

const cases = ADAPTERS.flatMap((adapter) =>
  STORES.map((store) => ({ adapter, store: store.name, start: store.start })),
);

describe.each(cases)('@WithLock on routes over $adapter ($store store)', ({ adapter, start }) => {
  let run: StoreRun;
  let app: INestApplication;
  let url: string;
  let locks: LockService;

  beforeAll(async () => {
    run = await start();
    ({ app, url, locks } = await startHttpApp(adapter, run.options, {
      controllers: [OrdersController],
      providers: [FakeAuthGuard],
    }));
  });

  afterAll(async () => {
    await app?.close();
    await run?.stop();
  });

  beforeEach(() => resetState());

  const post = (path: string, init: RequestInit = {}) => fetch(url + path, { method: 'POST', ...init });

  it('holds the lock while the handler runs; a concurrent call for the same key gets 409 naming the lock', async () => {
    const first = post('/orders/1/pay');
    await waitFor(() => state.ran.includes('pay:1'));
    const busy = await post('/orders/1/pay');
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ statusCode: 409, error: 'Conflict', lock: 'order:1' });
    // Another key is not blocked.
    const other = post('/orders/2/pay');
    await waitFor(() => state.ran.includes('pay:2'));
    state.gates.release('pay:2');
    expect((await other).status).toBe(201);
    state.gates.release('pay:1');
    const done = await first;
    expect(done.status).toBe(201);
    expect(await done.json()).toEqual({ paid: '1', locked: true });
    expect(await locks.isLocked('order:1')).toBe(false);
  });

  it('serialises concurrent requests that wait: a non-atomic counter comes out exact', async () => {
    const responses = await Promise.all(Array.from({ length: 12 }, () => post('/orders/counter')));
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(201));
    expect(state.probe.count).toBe(12);
    expect(state.probe.overlaps).toBe(0);
  });

  it("passes the handler's own error through unchanged and still releases", async () => {
    const response = await fetch(`${url}/orders/missing/7`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ statusCode: 404, message: 'order 7 not found' });
    expect(await locks.isLocked('missing:7')).toBe(false);
  });

  it('keys on what the route received: the user set by a guard, and the body', async () => {
    const cart = await post('/orders/cart', { headers: { 'x-user': 'u1' } });
    expect(await cart.json()).toEqual({ held: true });
    const transfer = await post('/orders/transfer', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'a', to: 'b' }),
    });
    expect(await transfer.json()).toEqual({ from: true, to: true });
    expect(await locks.isLocked(['cart:u1', 'account:a', 'account:b'])).toBe(false);
  });

  it('answers 400, without locking or running, when a key part is missing from the request', async () => {
    const response = await post('/orders/transfer', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'a' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ statusCode: 400, argument: 'key[1]' });
    expect(await locks.isLocked('account:a')).toBe(false);
  });

  it('keeps other decorators working on either side of @WithLock, and the method name', async () => {
    const response = await fetch(`${url}/orders/meta`);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ name: 'meta' });
    expect(state.ran).toContain('role:admin');
  });

  it('holds the lock while a stream is sent and releases when it completes', async () => {
    const response = await fetch(`${url}/orders/stream/s1`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    await reader.read(); // the stream has started
    expect(await locks.isLocked('stream:s1')).toBe(true);
    await expectBusyStream(await fetch(`${url}/orders/stream/s1`), 'stream:s1');
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    expect(text).toContain('s1-4');
    await waitFor(async () => !(await locks.isLocked('stream:s1')), 2_000);
  });

  it('releases when the client goes away mid-stream (unsubscribe)', async () => {
    const controller = new AbortController();
    const response = await fetch(`${url}/orders/endless/e1`, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    expect(await locks.isLocked('endless:e1')).toBe(true);
    controller.abort();
    await waitFor(async () => !(await locks.isLocked('endless:e1')), 3_000);
  });

  it('cancels the wait when the client disconnects before the lock is free', async () => {
    const holder = await locks.acquire('slow:w1');
    const controller = new AbortController();
    const request = post('/orders/slow/w1', { signal: controller.signal }).catch((error: Error) => error);
    await sleep(200);
    controller.abort();
    expect(await request).toBeInstanceOf(Error);
    await sleep(200);
    await holder.release();
    await sleep(400); // longer than the waiter's retry interval: it would have taken the lock by now
    expect(state.ran).not.toContain('slow:w1');
    expect(await locks.isLocked('slow:w1')).toBe(false);
  });
});
