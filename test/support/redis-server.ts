import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * A real redis-server on a free loopback port, started and ended by the test that owns it (only by
 * its own PID). Faults: kill (SIGKILL), pause/resume (SIGSTOP/SIGCONT), restart on the same port.
 */
export class RedisServer {
  private process: ChildProcess | undefined;
  /** Ends the server if this process exits first (a crash, an uncaught error): no orphan is left. */
  private readonly killOnExit = () => this.process?.kill('SIGKILL');
  private readonly clients = new Set<Redis>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'redis-lock-test-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
    /** Sentinel mode: the text of its config file (Sentinel needs one it can rewrite). */
    private readonly sentinelConfig: string | undefined,
  ) {}

  /** Starts a server; `extraArgs` are more redis-server options (e.g. cluster mode). */
  static async start(extraArgs: readonly string[] = [], sentinelConfig?: string): Promise<RedisServer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(await freePort(), extraArgs, sentinelConfig);
      try {
        await server.launch();
        return server;
      } catch (error) {
        lastError = error; // the port was taken between probing and binding: try another
        server.removeDir();
      }
    }
    throw lastError;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** A client of this server, closed by stop(). */
  client(options: RedisOptions = {}): Redis {
    const client = new Redis({ host: '127.0.0.1', port: this.port, ...options });
    client.on('error', () => undefined);
    this.clients.add(client);
    return client;
  }

  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /**
   * SIGKILL: the server dies at once, with everything since its last snapshot (`SAVE` writes one
   * into its data directory; nothing is saved otherwise).
   */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await once(child, 'exit');
    this.process = undefined;
  }

  /**
   * SIGKILL, then a server on the same port and data directory: empty, or as of its last `SAVE`
   * (a restart from an old snapshot, as Redis' default `save` points make it after a crash).
   */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
    const child = this.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const exited = once(child, 'exit');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    this.process = undefined;
    this.removeDir();
  }

  private async launch(): Promise<void> {
    // A config file, when given, must be redis-server's first argument.
    const config = this.sentinelConfig === undefined ? [] : [this.writeSentinelConfig(), '--sentinel'];
    const ready = this.sentinelConfig === undefined ? 'Ready to accept connections' : 'Sentinel ID is';
    const child = spawn(
      'redis-server',
      [
        ...config,
        ...['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    process.once('exit', this.killOnExit);
    child.once('exit', () => process.off('exit', this.killOnExit));
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => fail(new Error(`redis-server did not start on ${this.port}:\n${output}`)), 10_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(ready)) {
          cleanup();
          resolve();
        }
      };
      const onExit = () => fail(new Error(`redis-server exited on ${this.port}:\n${output}`));
      const onError = (error: Error) => fail(error);
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        child.off('error', onError);
        child.stdout!.resume();
      };
      function fail(error: Error) {
        cleanup();
        child.kill('SIGKILL');
        reject(error);
      }
      child.stdout!.on('data', onData);
      child.stderr!.resume();
      child.once('exit', onExit);
      child.once('error', onError);
    });
  }

  private writeSentinelConfig(): string {
    const file = join(this.dir, 'sentinel.conf');
    writeFileSync(file, this.sentinelConfig!);
    return file;
  }

  private removeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
