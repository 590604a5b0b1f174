import { type ChildProcess, execFile, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { DrainEvent } from './drain-protocol';

const root = resolve(__dirname, '..', '..');

type EventOf<E extends DrainEvent['event']> = Extract<DrainEvent, { event: E }>;

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One child process running its own Nest app; the events it reports are queued until a test takes them. */
export class DrainChild {
  readonly events: DrainEvent[] = [];
  /** What the child reported in its "ready" event (HTTP apps: where they listen). */
  url: string | undefined;
  /** Settles when the process has exited (it never rejects). */
  readonly exited: Promise<Exit>;
  private readonly unread: DrainEvent[] = [];
  private wake: (() => void) | undefined;

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.on('message', (message: DrainEvent) => {
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

  /** Sends a signal to this process (by its own PID, through its ChildProcess handle). */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** The next unread event of that kind matching `where` (others stay queued); bounded. */
  async next<E extends DrainEvent['event']>(
    event: E,
    timeout = 30_000,
    where: (message: EventOf<E>) => boolean = () => true,
  ): Promise<EventOf<E>> {
    const end = Date.now() + timeout;
    for (;;) {
      const index = this.unread.findIndex((message) => message.event === event && where(message as EventOf<E>));
      if (index !== -1) return this.unread.splice(index, 1)[0] as EventOf<E>;
      if (!this.alive) throw new Error(`child ${this.pid} exited while a test waited for "${event}"`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`child ${this.pid} sent no "${event}" within ${timeout} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
    }
  }

  /** How the process exited, or null if it had not within `timeout` ms (it is left running). */
  async exitWithin(timeout: number): Promise<Exit | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeout)));
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Problems the child caught instead of crashing on (there should be none). */
  unhandled(): string[] {
    return this.events.flatMap((message) => (message.event === 'unhandled' ? [message.message] : []));
  }
}

/**
 * The child apps of the drain tests (test/support/drain-*.ts), compiled once from TypeScript as
 * chaos-workers.ts does it, forked on demand, ended by `endAll()` / `close()` only by their PIDs.
 * The output directory is named like the chaos workers' so the existing .gitignore entry covers it.
 */
export class DrainChildren {
  private readonly children: DrainChild[] = [];

  private constructor(private readonly outDir: string) {}

  static async compile(): Promise<DrainChildren> {
    const outDir = mkdtempSync(join(root, '.chaos-workers-drain-'));
    try {
      await promisify(execFile)(
        process.execPath,
        [require.resolve('typescript/bin/tsc'), '-p', 'test/support/tsconfig.drain.json', '--outDir', outDir],
        { cwd: root },
      );
    } catch (error) {
      rmSync(outDir, { recursive: true, force: true });
      throw error;
    }
    return new DrainChildren(outDir);
  }

  /** Forks test/support/<name>.ts (compiled) with `env` and waits for its "ready" event. */
  async start(name: 'drain-bullmq-worker' | 'drain-http-app', env: Record<string, string>): Promise<DrainChild> {
    const child = fork(join(this.outDir, 'test', 'support', `${name}.js`), [], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const started = new DrainChild(child);
    this.children.push(started);
    started.url = (await started.next('ready', 30_000)).url;
    return started;
  }

  /** SIGTERMs every child still alive; SIGKILLs those that have not exited within 10 s. */
  async endAll(): Promise<void> {
    const ending = this.children.splice(0);
    await Promise.all(
      ending.map(async (child) => {
        if (!child.alive) return;
        child.signal('SIGCONT');
        child.signal('SIGTERM');
        if ((await child.exitWithin(10_000)) === null) {
          child.signal('SIGKILL');
          await child.exited;
        }
      }),
    );
  }

  /** Ends the children and removes the compiled code. */
  async close(): Promise<void> {
    await this.endAll();
    rmSync(this.outDir, { recursive: true, force: true });
  }
}
