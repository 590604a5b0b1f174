import type { Redis, RedisOptions } from 'ioredis';
import { RedisServer } from './redis-server';
import { waitFor } from './wait-for';

/** The name the sentinels monitor the master under. */
export const MASTER_NAME = 'locks';

/** Sentinel timings: low, so a failover completes in a few seconds. */
export const DOWN_AFTER = 1_000;
export const FAILOVER_TIMEOUT = 3_000;

/**
 * A real Sentinel deployment on free loopback ports: one master, one replica (`--replicaof`) and
 * three sentinels (quorum 2), each a redis-server process of this test, ended by its own PID.
 * `killMaster()` SIGKILLs the current master; `failedOver()` resolves once the sentinels name the
 * replica as master and it has taken the role.
 */
export class RedisSentinelDeployment {
  /** One client per sentinel for the harness' own questions, closed with their servers. */
  private readonly asking;

  private constructor(
    readonly master: RedisServer,
    readonly replica: RedisServer,
    readonly sentinels: RedisServer[],
  ) {
    this.asking = sentinels.map((sentinel) => sentinel.client());
  }

  static async start(): Promise<RedisSentinelDeployment> {
    const started: RedisServer[] = [];
    try {
      const master = await RedisServer.start();
      started.push(master);
      const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
      started.push(replica);
      const config = [
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER}`,
        `sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT}`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        'sentinel announce-ip 127.0.0.1',
        '',
      ].join('\n');
      const sentinels: RedisServer[] = [];
      for (let i = 0; i < 3; i++) {
        const sentinel = await RedisServer.start([], config);
        started.push(sentinel);
        sentinels.push(sentinel);
      }
      const deployment = new RedisSentinelDeployment(master, replica, sentinels);
      await deployment.ready();
      return deployment;
    } catch (error) {
      for (const server of started) await server.stop();
      throw error;
    }
  }

  /** ioredis options that connect through the sentinels (the module's `redis` option). */
  options(extra: RedisOptions = {}): RedisOptions {
    return {
      sentinels: this.sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
      name: MASTER_NAME,
      ...extra,
    };
  }

  /** The port the sentinels currently name as the master's. */
  async masterPort(): Promise<number> {
    return portNamedBy(this.asking[0]!);
  }

  /** SIGKILL of the master: it dies with its data. */
  killMaster(): Promise<void> {
    return this.master.kill();
  }

  /** Resolves once every sentinel names the replica as master and the replica acts as one (bounded). */
  async failedOver(timeout = 20_000): Promise<void> {
    const replica = this.replica.client();
    await waitFor(
      async () => {
        const ports = await Promise.all(this.asking.map(portNamedBy));
        if (!ports.every((port) => port === this.replica.port)) return false;
        return (await replica.info('replication')).includes('role:master');
      },
      timeout,
      50,
    );
  }

  async stop(): Promise<void> {
    for (const server of [...this.sentinels, this.replica, this.master]) await server.stop();
  }

  /** The replica is in sync, and every sentinel knows the replica and the two other sentinels. */
  private async ready(): Promise<void> {
    const master = this.master.client();
    await waitFor(async () => (await master.info('replication')).includes('state=online'), 20_000, 50);
    await acknowledgedOnce(master);
    await waitFor(
      async () => {
        const views = await Promise.all(
          this.asking.map(async (client) => {
            const replicas = (await client.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
            const others = (await client.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
            return replicas.length === 1 && others.length === 2;
          }),
        );
        return views.every(Boolean);
      },
      20_000,
      100,
    );
  }
}

/**
 * The replica has acknowledged a write once: its first acknowledgement after the sync can take
 * longer than a test's short WAIT bound on a loaded machine.
 */
export async function acknowledgedOnce(master: Redis): Promise<void> {
  await master.set('replication-warm-up', '1');
  await waitFor(async () => Number(await master.wait(1, 1_000)) >= 1, 20_000, 0);
  await master.del('replication-warm-up');
}

async function portNamedBy(sentinel: Redis): Promise<number> {
  const reply = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
  return Number(reply[1]);
}
