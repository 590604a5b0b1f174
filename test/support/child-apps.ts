import { type ChildProcess, execFile, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const root = resolve(__dirname, '..', '..');

/** What every child app reports: 'ready' once up (with a url for HTTP apps), 'unhandled' for caught problems. */
export type ChildEvent = { event: string } & (
  { event: 'ready'; url?: string } | { event: 'unhandled'; message: string } | object
);

type EventOf<E extends ChildEvent, K extends E['event']> = Extract<E, { event: K }>;

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One child process running its own Nest app; the events it reports are queued until a test takes them. */
export class ChildApp<E extends ChildEvent, C = never> {
  readonly events: E[] = [];
  /** What the child reported in its "ready" event (HTTP apps: where they listen). */
  url: string | undefined;
  /** Settles when the process has exited (it never rejects). */
  readonly exited: Promise<Exit>;
  private readonly unread: E[] = [];
  private wake: (() => void) | undefined;

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.on('message', (message: E) => {
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

  send(command: C): void {
    this.child.send(command as object);
  }

  /** Sends a signal to this process (by its own PID, through its ChildProcess handle). */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Freezes the whole process (its timers too), as a long GC pause or a stopped VM would. */
  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** The next unread event of that kind matching `where` (others stay queued); bounded. */
  async next<K extends E['event']>(
    event: K,
    timeout = 30_000,
    where: (message: EventOf<E, K>) => boolean = () => true,
  ): Promise<EventOf<E, K>> {
    const end = Date.now() + timeout;
    for (;;) {
      const index = this.unread.findIndex((message) => message.event === event && where(message as EventOf<E, K>));
      if (index !== -1) return this.unread.splice(index, 1)[0] as EventOf<E, K>;
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
    return this.events.flatMap((message) =>
      message.event === 'unhandled' ? [(message as { message: string }).message] : [],
    );
  }
}

/**
 * The child apps of the multi-process tests (test/support/chaos-worker.ts, drain-*.ts): compiled
 * once from TypeScript, forked on demand, and ended by `endAll()` / `close()` only by their PIDs.
 */
export class ChildApps<E extends ChildEvent, C = never> {
  private readonly apps: ChildApp<E, C>[] = [];

  private constructor(
    private readonly outDir: string,
    /** Asks an app to end (a command or a signal); one still alive 10 s later is killed. */
    private readonly end: (app: ChildApp<E, C>) => void,
  ) {}

  static async compile<E extends ChildEvent, C = never>(end: (app: ChildApp<E, C>) => void): Promise<ChildApps<E, C>> {
    const outDir = mkdtempSync(join(root, '.child-apps-'));
    try {
      await promisify(execFile)(
        process.execPath,
        [require.resolve('typescript/bin/tsc'), '-p', 'test/support/tsconfig.children.json', '--outDir', outDir],
        { cwd: root },
      );
    } catch (error) {
      rmSync(outDir, { recursive: true, force: true });
      throw error;
    }
    return new ChildApps(outDir, end);
  }

  /** Forks test/support/<script>.ts (compiled) with `env` and waits for its "ready" event. */
  async start(script: string, env: Record<string, string>): Promise<ChildApp<E, C>> {
    const child = fork(join(this.outDir, 'test', 'support', `${script}.js`), [], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const app = new ChildApp<E, C>(child);
    this.apps.push(app);
    const ready = (await app.next('ready' as E['event'], 30_000)) as { url?: string };
    app.url = ready.url;
    return app;
  }

  /** Ends every app still alive (resumed first, if paused); kills those not gone within 10 s. */
  async endAll(): Promise<void> {
    const ending = this.apps.splice(0);
    await Promise.all(
      ending.map(async (app) => {
        if (!app.alive) return;
        app.resume();
        this.end(app);
        if ((await app.exitWithin(10_000)) === null) {
          app.signal('SIGKILL');
          await app.exited;
        }
      }),
    );
  }

  /** Ends the apps and removes the compiled code. */
  async close(): Promise<void> {
    await this.endAll();
    rmSync(this.outDir, { recursive: true, force: true });
  }
}
