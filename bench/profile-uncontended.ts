import { RedisServer } from '../test/support/redis-server';
import { type AdapterName, createAdapter } from './adapters';
import { concurrent } from './scenarios/uncontended';

/** Profiling aid: scenario 2 for one library (`node --cpu-prof dist-bench/bench/profile-uncontended.js NAME`). */
async function main(): Promise<void> {
  const name = (process.argv[2] ?? 'nestjs-redis-lock') as AdapterName;
  const server = await RedisServer.start();
  const adapter = await createAdapter(name, server.url);
  await concurrent(adapter, -1, 64, 20);
  const started = performance.now();
  const result = await concurrent(adapter, 0, 64, 300);
  console.log(name, Math.round(result.opsPerSec), 'ops/s', Math.round(performance.now() - started), 'ms');
  const admin = server.client();
  console.log((await admin.info('commandstats')).split('\n').filter((l) => /eval|set|publish/.test(l)).join('\n'));
  await adapter.close();
  await server.stop();
}

void main();
