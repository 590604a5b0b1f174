import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { percentile } from '../stats';

export type RouteVariant = 'plain' | 'locked' | 'redlock';

export interface HttpResult {
  /** Under load: autocannon, 10 connections. */
  requestsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** One connection, one request at a time: the route's own latency, measured to the microsecond. */
  sequentialP50: number;
  sequentialP99: number;
}

/** decorator-route: a Nest route with and without a lock decorator, loaded over real HTTP. */
export class DecoratorRouteServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly port: number,
  ) {}

  static async start(redisUrl: string): Promise<DecoratorRouteServer> {
    const child = fork(join(__dirname, '..', 'decorator-route-server.js'), [], {
      env: { ...process.env, REDIS_URL: redisUrl },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Bounded: a server that crashes or hangs on start fails the run instead of stalling it.
    const [message] = (await once(child, 'message', { signal: AbortSignal.timeout(60_000) })) as [{ port: number }];
    return new DecoratorRouteServer(child, message.port);
  }

  async load(variant: RouteVariant, seconds: number, sequential: number): Promise<HttpResult> {
    const latencies = await this.sequential(variant, sequential);
    const result = await autocannon({
      url: `http://127.0.0.1:${this.port}`,
      connections: 10,
      duration: seconds,
      // [<id>] is replaced by a fresh id per request: every request locks its own key.
      requests: [{ method: 'POST', path: `/${variant}/[<id>]` }],
      idReplacement: true,
    });
    return {
      requestsPerSec: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.non2xx,
      sequentialP50: percentile(latencies, 50),
      sequentialP99: percentile(latencies, 99),
    };
  }

  private async sequential(variant: RouteVariant, requests: number): Promise<number[]> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const latencies: number[] = [];
    try {
      for (let i = 0; i < requests; i++) {
        const start = performance.now();
        await new Promise<void>((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port: this.port,
              method: 'POST',
              path: `/${variant}/seq-${process.pid}-${Date.now()}-${i}`,
              agent,
            },
            (res) => {
              res.resume();
              res.on('end', resolve);
            },
          );
          req.on('error', reject);
          req.end();
        });
        latencies.push(performance.now() - start);
      }
    } finally {
      agent.destroy();
    }
    return latencies;
  }

  async close(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.send({ type: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
