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
      await waitFor(
        async () => {
          const states = await Promise.all(servers.map((server) => server.client().cluster('INFO') as Promise<string>));
          return states.every((info) => info.includes('cluster_state:ok'));
        },
        20_000,
        100,
      );
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

  /** The hash slot of `key`. */
  async slotOf(key: string): Promise<number> {
    return Number(await this.servers[0]!.client().cluster('KEYSLOT', key));
  }

  /** The master that serves `slot` now. */
  async ownerOf(slot: number): Promise<RedisServer> {
    const ranges = await this.servers[0]!.client().cluster('SLOTS');
    const [, , master] = ranges.find(([first, last]) => first <= slot && slot <= last)!;
    return this.servers.find((server) => server.port === master![1])!;
  }

  /**
   * Slot migration as `redis-cli --cluster reshard` does it, one step at a time: `begin` marks
   * `slot` IMPORTING on `to` and MIGRATING on `from` (from then on `from` answers ASK for a
   * command whose keys are all gone from it, and TRYAGAIN for one whose keys it has only some
   * of), `move` MIGRATEs the named keys, `finish` gives the slot to `to` on every master (MOVED).
   */
  async migration(slot: number, from: RedisServer, to: RedisServer) {
    const idOf = async (server: RedisServer) => String(await server.client().cluster('MYID'));
    const [fromId, toId] = [await idOf(from), await idOf(to)];
    return {
      begin: async () => {
        await to.client().cluster('SETSLOT', slot, 'IMPORTING', fromId);
        await from.client().cluster('SETSLOT', slot, 'MIGRATING', toId);
      },
      move: async (...keys: string[]) => {
        await from.client().call('MIGRATE', '127.0.0.1', to.port, '', 0, 5_000, 'KEYS', ...keys);
      },
      finish: async () => {
        for (const server of [to, from, ...this.servers.filter((other) => other !== to && other !== from)]) {
          await server.client().cluster('SETSLOT', slot, 'NODE', toId);
        }
      },
    };
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
    for (const server of this.servers) await server.stop();
  }
}
