import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { RedisServer } from './redis-server';
import { waitFor } from './wait-for';

const run = promisify(execFile);

/** A real Redis Cluster of `masters` redis-server processes on free loopback ports, no replicas. */
export class RedisCluster {
  private readonly clients = new Set<Cluster>();

  private constructor(readonly servers: RedisServer[]) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const servers: RedisServer[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        servers.push(await RedisServer.start(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000']));
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...servers.map((server) => `127.0.0.1:${server.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      const cluster = new RedisCluster(servers);
      await waitFor(async () => {
        const states = await Promise.all(servers.map((server) => server.client().cluster('INFO') as Promise<string>));
        return states.every((info) => info.includes('cluster_state:ok'));
      }, 20_000, 100);
      return cluster;
    } catch (error) {
      for (const server of servers) await server.stop();
      throw error;
    }
  }

  /** A cluster client, closed by stop(). */
  client(): Cluster {
    const client = new Cluster(this.servers.map((server) => ({ host: '127.0.0.1', port: server.port })));
    client.on('error', () => undefined);
    this.clients.add(client);
    return client;
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
    for (const server of this.servers) await server.stop();
  }
}
