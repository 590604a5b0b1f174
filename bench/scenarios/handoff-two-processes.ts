import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { AdapterName } from '../adapters';
import { commandCalls, countClientCommands } from '../redis-stats';
import { percentile } from '../stats';
import { now } from '../timing';

export interface HandoffResult {
  makespan: number;
  gapP50: number;
  gapP99: number;
  waitP99: number;
  waits: number[];
  /** All Redis commands per critical section, those run inside scripts included (INFO commandstats). */
  commandsPerSection: number;
  failures: number;
}

interface Section {
  asked: number;
  start: number;
  end: number;
  failed: boolean;
}

/** The worker processes of one library for handoff-two-processes, kept for several rounds. */
export class HandoffWorkers {
  private constructor(private readonly workers: ChildProcess[]) {}

  static async start(adapter: AdapterName, url: string, processes: number): Promise<HandoffWorkers> {
    const workers = Array.from({ length: processes }, () =>
      fork(join(__dirname, '..', 'handoff-two-processes-worker.js'), [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    await Promise.all(workers.map((worker) => request(worker, { type: 'prepare', adapter, url }, 'ready')));
    return new HandoffWorkers(workers);
  }

  /** One run: `callers` callers split over the processes, released together, each holding `holdMs` once. */
  async run(admin: Redis, key: string, callers: number, holdMs: number): Promise<HandoffResult> {
    const before = await commandCalls(admin);
    const at = now() + 100;
    const each = callers / this.workers.length;
    const replies = await Promise.all(
      this.workers.map((worker) => request(worker, { type: 'run', key, callers: each, holdMs, at }, 'done')),
    );
    const commands = (await commandCalls(admin)) - before;
    const sections = replies.flatMap((reply) => (reply as { sections: Section[] }).sections);
    const done = sections.filter((s) => !s.failed).sort((a, b) => a.start - b.start);
    const gaps = done.slice(1).map((s, i) => s.start - done[i]!.end);
    const waits = done.map((s) => s.start - at);
    return {
      makespan: Math.max(...done.map((s) => s.end)) - at,
      gapP50: percentile(gaps, 50),
      gapP99: percentile(gaps, 99),
      waitP99: percentile(waits, 99),
      waits,
      commandsPerSection: commands / Math.max(1, done.length),
      failures: sections.length - done.length,
    };
  }

  /** Client commands (round trips) per critical section, counted under MONITOR in an untimed run. */
  async clientCommandsPerSection(admin: Redis, key: string, callers: number, holdMs: number): Promise<number> {
    const { result, commands } = await countClientCommands(admin, () => this.run(admin, key, callers, holdMs));
    return commands / Math.max(1, callers - result.failures);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (worker) => {
        const exited = once(worker, 'exit');
        worker.send({ type: 'close' });
        const timer = setTimeout(() => worker.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** Sends `message` and waits for the `expect` reply: bounded, and failing if the worker dies. */
function request(worker: ChildProcess, message: object, expect: string, timeout = 120_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const done = (settle: () => void) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      settle();
    };
    const onMessage = (reply: { type: string; error?: string }) => {
      if (reply.type === expect) done(() => resolve(reply));
      else if (reply.type === 'error') done(() => reject(new Error(reply.error)));
    };
    const onExit = (code: number | null) =>
      done(() => reject(new Error(`benchmark worker exited (${code}) before '${expect}'`)));
    const timer = setTimeout(
      () => done(() => reject(new Error(`no '${expect}' from a worker within ${timeout} ms`))),
      timeout,
    );
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    worker.send(message);
  });
}
