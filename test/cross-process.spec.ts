import { type ChildProcess, execFile, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from './support/redis-server';

const root = resolve(__dirname, '..');

describe('mutual exclusion across OS processes', () => {
  const outDir = mkdtempSync(join(root, '.cross-process-test-'));
  let server: RedisServer;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    // Each worker is a separate Node process running its own Nest application, compiled from TypeScript here.
    await promisify(execFile)(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'test/support/tsconfig.worker.json', '--outDir', outDir],
      { cwd: root },
    );
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await server?.stop();
    rmSync(outDir, { recursive: true, force: true });
  });

  it('three processes x 4 callers: a non-atomic counter comes out exact, and fences follow the order of the sections', async () => {
    for (let i = 0; i < 3; i++) {
      const worker = fork(join(outDir, 'test', 'support', 'cross-process-worker.js'), [], {
        env: { ...process.env, REDIS_URL: server.url },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      workers.push(worker);
    }
    const bound = { signal: AbortSignal.timeout(60_000) };
    await Promise.all(workers.map((worker) => once(worker, 'message', bound)));
    const done = workers.map((worker) => once(worker, 'message', bound));
    for (const worker of workers) worker.send({ callers: 4, sections: 25 });
    const reports = (await Promise.all(done)).map(([message]) => message as { seen: { read: number; fence: number }[] });
    await Promise.all(workers.map((worker) => (worker.exitCode === null ? once(worker, 'exit', bound) : undefined)));

    expect(Number(await server.client().get('cross-process-counter'))).toBe(300);
    const sections = reports.flatMap((report) => report.seen).sort((a, b) => a.read - b.read);
    // Every section read a different value (none overlapped), and the fence grew with each one.
    expect(sections.map((s) => s.read)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    for (let i = 1; i < sections.length; i++) expect(sections[i]!.fence).toBeGreaterThan(sections[i - 1]!.fence);
  }, 120_000);
});
