import type { Redis, RedisOptions } from 'ioredis';
import type { RedisServer } from './redis-server';
import { sleep } from './wait-for';

/**
 * Records the commands clients send to a server (MONITOR), leaving out those run inside scripts,
 * so a test can count round trips. `stop()` returns the command names, lower case.
 */
export async function recordCommands(
  server: RedisServer,
): Promise<{ stop: () => Promise<string[]>; sources: string[] }> {
  // RESP2: ioredis 6 can mis-track its command queue when MONITOR lines arrive over RESP3.
  const client = server.client({ protocol: 2 } as RedisOptions);
  const monitor = (await client.monitor()) as unknown as Redis & {
    on(event: 'monitor', listener: (time: string, args: string[], source: string) => void): void;
  };
  const seen: string[] = [];
  /** Which client connection (address:port) sent each recorded command. */
  const sources: string[] = [];
  monitor.on('monitor', (_time, args, source) => {
    if (source.includes('lua')) return;
    seen.push(String(args[0]).toLowerCase());
    sources.push(source);
  });
  return {
    sources,
    stop: async () => {
      await sleep(50); // MONITOR output trails the replies a little
      // Dropped at once, not ended: a MONITOR line arriving while ioredis closes the connection
      // (no longer 'monitoring') is taken for a reply to no command and throws.
      monitor.disconnect();
      (monitor as unknown as { stream?: { destroy(): void } }).stream?.destroy();
      client.disconnect();
      return seen;
    },
  };
}
