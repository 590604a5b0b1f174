import { Redis, type RedisOptions } from 'ioredis';

/** Calls of every command so far (INFO commandstats), commands run inside scripts included. */
export async function commandCalls(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  return [...info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)]
    .filter(([, name]) => name !== 'info' && name !== 'monitor')
    .reduce((sum, [, , calls]) => sum + Number(calls), 0);
}

/** Round-trip time to Redis: median of `samples` PINGs (ms). */
export async function pingRtt(admin: Redis, samples = 200): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await admin.ping();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Client commands only (round trips), as MONITOR sees them: commands run by scripts are left out. */
export async function countClientCommands<T>(
  admin: Redis,
  work: () => Promise<T>,
): Promise<{ result: T; commands: number }> {
  // monitor() opens a connection of its own, closed below; RESP2, as ioredis 6 can mis-track its
  // command queue when MONITOR lines arrive over RESP3.
  const source = new Redis({ host: admin.options.host, port: admin.options.port, protocol: 2 } as RedisOptions);
  const monitor = (await source.monitor()) as unknown as Redis & {
    on(event: 'monitor', listener: (time: string, args: string[], source: string) => void): void;
  };
  let commands = 0;
  monitor.on('monitor', (_time, _args, source) => {
    if (!source.includes('lua')) commands++;
  });
  const result = await work();
  await new Promise((resolve) => setTimeout(resolve, 100));
  monitor.disconnect();
  source.disconnect();
  return { result, commands };
}
