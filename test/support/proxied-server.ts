import { afterAll, beforeAll } from 'vitest';
import { FaultProxy } from './fault-proxy';
import { RedisServer } from './redis-server';

/** A redis-server and the FaultProxy in front of it, as a suite gets them. */
export interface ProxiedServer {
  server: RedisServer;
  proxy: FaultProxy;
}

/** A redis-server behind a FaultProxy for one suite: faults hit the proxied side, the other side connects directly. */
export function proxiedServerPerSuite(onStart: (started: ProxiedServer) => void): void {
  let server: RedisServer | undefined;
  let proxy: FaultProxy | undefined;

  beforeAll(async () => {
    server = await RedisServer.start();
    proxy = await FaultProxy.start(server.port);
    onStart({ server, proxy });
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });
}
