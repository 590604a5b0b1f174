import { type ChildProcess, execFile, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { WorkerCommand, WorkerEvent } from './chaos-protocol';

const root = resolve(__dirname, '..', '..');

type EventOf<E extends WorkerEvent['event']> = Extract<WorkerEvent, { event: E }>;

/** One worker process (its own Nest app); events it reports are queued until a test takes them. */
export class ChaosWorker {
  readonly events: WorkerEvent[] = [];
  private readonly unread: WorkerEvent[] = [];
  private wake: (() => void) | undefined;

  constructor(readonly child: ChildProcess) {
    child.on('message', (message: WorkerEvent) => {
      this.events.push(message);
      this.unread.push(message);
      this.wake?.();
    });
    child.on('exit', () => this.wake?.());
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(command: WorkerCommand): void {
    this.child.send(command);
  }

  /** The next unread event of that kind (earlier ones of other kinds stay queued); bounded. */
  async next<E extends WorkerEvent['event']>(event: E, timeout = 30_000): Promise<EventOf<E>> {
    const end = Date.now() + timeout;
    for (;;) {
      const index = this.unread.findIndex((message) => message.event === event);
      if (index !== -1) return this.unread.splice(index, 1)[0] as EventOf<E>;
      if (!this.alive) throw new Error(`worker ${this.pid} exited while a test waited for "${event}"`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`worker ${this.pid} sent no "${event}" within ${timeout} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
    }
  }

  /** Freezes the whole process (its timers too), as a long GC pause or a stopped VM would. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** Problems the worker caught instead of crashing on (there should be none). */
  unhandled(): string[] {
    return this.events.flatMap((message) => (message.event === 'unhandled' ? [message.message] : []));
  }
}

/**
 * Worker processes for the chaos tests: compiled once from TypeScript (test/support/chaos-worker.ts),
 * forked on demand, and ended by `close()`, only by their own PIDs.
 */
export class ChaosWorkers {
  private readonly workers: ChaosWorker[] = [];

  private constructor(private readonly outDir: string) {}

  static async compile(): Promise<ChaosWorkers> {
    const outDir = mkdtempSync(join(root, '.chaos-workers-'));
    try {
      await promisify(execFile)(
        process.execPath,
        [require.resolve('typescript/bin/tsc'), '-p', 'test/support/tsconfig.worker.json', '--outDir', outDir],
        { cwd: root },
      );
    } catch (error) {
      rmSync(outDir, { recursive: true, force: true });
      throw error;
    }
    return new ChaosWorkers(outDir);
  }

  /** Starts a worker on `redisUrl` and waits until its app is up. */
  async start(redisUrl: string, env: Record<string, string> = {}): Promise<ChaosWorker> {
    const child = fork(join(this.outDir, 'test', 'support', 'chaos-worker.js'), [], {
      env: { ...process.env, ...env, REDIS_URL: redisUrl },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new ChaosWorker(child);
    this.workers.push(worker);
    await worker.next('ready');
    return worker;
  }

  /** Asks every live worker to close its app and exit; kills those that do not within the bound. */
  async endWorkers(): Promise<void> {
    const ending = this.workers.splice(0);
    await Promise.all(
      ending.map(async (worker) => {
        if (!worker.alive) return;
        worker.resume();
        const exited = new Promise((resolve) => worker.child.once('exit', resolve));
        worker.send({ cmd: 'exit' });
        const timer = setTimeout(() => worker.child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Ends the workers and removes the compiled code. */
  async close(): Promise<void> {
    await this.endWorkers();
    rmSync(this.outDir, { recursive: true, force: true });
  }
}
