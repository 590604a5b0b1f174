import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, commandNamed, scriptCall } from '../support/fault-proxy';
import { RedisServer } from '../support/redis-server';

/** The proxy itself, against a plain ioredis client: what the lost-replies suite relies on. */
describe('FaultProxy (test support)', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  const clients: Redis[] = [];
  const client = () => {
    const created = new Redis(proxy.url);
    created.on('error', () => undefined);
    clients.push(created);
    return created;
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await FaultProxy.start(server.port);
  });

  afterEach(() => {
    proxy.reset();
    for (const created of clients.splice(0)) created.disconnect();
  });

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  const COUNTER = `return redis.call('INCR', KEYS[1])`;

  it('dropReplyOnce: the script runs, its reply is lost with the connection, ioredis resends it and it runs again', async () => {
    const redis = client() as Redis & { countOnce(keys: number, key: string): Promise<number> };
    redis.defineCommand('countOnce', { lua: COUNTER });
    expect(await redis.ping()).toBe('PONG'); // connected: the script is the only command in flight
    const opened = proxy.connections.length;
    const drop = proxy.dropReplyOnce(scriptCall(COUNTER));
    expect(await redis.countOnce(1, 'fp:count')).toBe(2);
    expect(drop.requests).toBe(2);
    expect(drop.replies).toBe(1);
    expect(proxy.connections.length).toBe(opened + 1); // the reconnection
    expect(await server.client().get('fp:count')).toBe('2');
    // Once only: the next call passes.
    expect(await redis.countOnce(1, 'fp:count')).toBe(3);
  });

  it('delayReplies: holds the matching reply (and what follows it on the connection), in order', async () => {
    const redis = client();
    await redis.set('fp:slow', 'v');
    const delay = proxy.delayReplies(commandNamed('get', 'fp:slow'), 300, 1);
    const started = Date.now();
    const order: string[] = [];
    const get = redis.get('fp:slow').then((value) => order.push(`get:${value}`));
    const ping = redis.ping().then(() => order.push('ping'));
    await Promise.all([get, ping]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(order).toEqual(['get:v', 'ping']);
    expect(delay.replies).toBe(1);
    // times: 1, so the next one is not held.
    const again = Date.now();
    await redis.get('fp:slow');
    expect(Date.now() - again).toBeLessThan(200);
  });

  it('delayReplies(…, Infinity) holds until release()', async () => {
    const redis = client();
    await redis.ping();
    const hold = proxy.delayReplies(commandNamed('get', 'fp:held'), Infinity);
    let answered = false;
    const get = redis.get('fp:held').then(() => (answered = true));
    await hold.replied();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    hold.release();
    await get;
    expect(answered).toBe(true);
  });

  it('delayNewConnections slows connections opened afterwards only; pub/sub messages pass through', async () => {
    const before = client();
    await before.ping();
    proxy.delayNewConnections(150);
    const after = client();
    await after.ping(); // connected (slowly)
    proxy.delayNewConnections(0);
    let started = Date.now();
    await after.ping();
    expect(Date.now() - started).toBeGreaterThanOrEqual(280); // 150 ms each way
    started = Date.now();
    await before.ping();
    expect(Date.now() - started).toBeLessThan(100);

    const subscribed = proxy.watch(commandNamed('subscribe', 'fp:channel'));
    const subscriber = client();
    const received = new Promise<string>((resolve) =>
      subscriber.on('message', (_channel, message: string) => resolve(message)),
    );
    await subscriber.subscribe('fp:channel');
    expect(subscribed.replies).toBe(1);
    await server.client().publish('fp:channel', 'hello');
    expect(await received).toBe('hello');
  });
});
