import { type Server, type Socket, connect, createServer } from 'node:net';

/**
 * A loopback TCP proxy in front of a redis-server that delays every chunk by `delay` ms each way
 * (network-style slowness, unlike SIGSTOP: the server itself stays quick). Order is kept when the
 * delay changes mid-stream.
 */
export class LatencyProxy {
  /** Added to each direction, in ms; change it at any time. */
  delay = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<LatencyProxy> {
    let proxy!: LatencyProxy;
    const server = createServer((client) => proxy.connect(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new LatencyProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private connect(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  private forward(from: Socket, to: Socket): void {
    let lastDue = 0;
    from.on('data', (chunk) => {
      const now = Date.now();
      const due = Math.max(now + this.delay, lastDue);
      lastDue = due;
      if (due <= now) to.write(chunk);
      else setTimeout(() => to.destroyed || to.write(chunk), due - now);
    });
  }
}
