import { createHash } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';

/**
 * Which requests a rule acts on: a string the request's bytes contain (a token, a key), or a test
 * on the command's arguments as strings (the first one is the command name, lower-cased).
 */
export type Matcher = string | ((command: readonly string[]) => boolean);

/**
 * Matches a call of a Lua script as ioredis sends it: EVALSHA with the script's SHA1, or EVAL with
 * its text (ioredis 6 sends EVAL the first time a script runs on a connection, so also after every
 * reconnect). Computed from the script text, so it follows script changes.
 */
export function scriptCall(lua: string): (command: readonly string[]) => boolean {
  const sha = createHash('sha1').update(lua).digest('hex');
  return (command) =>
    (command[0] === 'evalsha' && command[1]?.toLowerCase() === sha) || (command[0] === 'eval' && command[1] === lua);
}

/** Matches a command by name (lower case), and optionally one of its arguments. */
export function commandNamed(name: string, argument?: string): (command: readonly string[]) => boolean {
  return (command) => command[0] === name.toLowerCase() && (argument === undefined || command.includes(argument));
}

type ReplyAction = { kind: 'watch' } | { kind: 'drop' } | { kind: 'delay'; ms: number };

/**
 * One rule of the proxy. Counts the matching requests it saw (all of them, also past its budget:
 * a resent command shows up as a second request) and the replies it acted on.
 */
export class ReplyRule {
  /** Matching requests forwarded to Redis. */
  requests = 0;
  /** Replies to matching requests this rule acted on (dropped, delayed or, for a watch, seen). */
  replies = 0;
  /** Every matching request, as its arguments (the command name lower-cased). */
  readonly commands: string[][] = [];
  private removed = false;
  private readonly held = new Set<{ item: PipeItem; pipe: Pipe }>();
  private readonly waiters: { check: () => boolean; resolve: () => void }[] = [];

  /** @internal */
  constructor(
    private readonly matcher: Matcher,
    /** @internal */ readonly action: ReplyAction,
    /** How many matching requests it acts on; later ones are only counted. */
    private budget: number,
    private readonly onRemove: (rule: ReplyRule) => void,
  ) {}

  /** Stops acting on new requests (replies already held keep their release time). */
  remove(): void {
    this.removed = true;
    this.onRemove(this);
  }

  /** Forwards every reply this rule is holding now, whatever their delay. */
  release(): void {
    for (const { item, pipe } of this.held) {
      item.due = 0;
      pipe.pump();
    }
    this.held.clear();
  }

  /** Resolves once `count` matching requests were forwarded (bounded by `timeout`). */
  requested(count = 1, timeout = 5_000): Promise<void> {
    return this.until(() => this.requests >= count, `${count} matching request(s)`, timeout);
  }

  /** Resolves once this rule acted on `count` replies (bounded by `timeout`). */
  replied(count = 1, timeout = 5_000): Promise<void> {
    return this.until(() => this.replies >= count, `${count} matching reply(ies)`, timeout);
  }

  /** @internal A request went through: whether this rule takes it (within its budget). */
  take(command: readonly string[], raw: Buffer): boolean {
    if (this.removed || !matches(this.matcher, command, raw)) return false;
    this.requests++;
    this.commands.push([...command]);
    this.notify();
    if (this.budget <= 0) return false;
    this.budget--;
    return true;
  }

  /** @internal */
  acted(): void {
    this.replies++;
    this.notify();
  }

  /** @internal */
  hold(item: PipeItem, pipe: Pipe): void {
    const entry = { item, pipe };
    this.held.add(entry);
    item.onSent = () => this.held.delete(entry);
  }

  private until(check: () => boolean, what: string, timeout: number): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(
          new Error(`FaultProxy: no ${what} within ${timeout} ms (requests ${this.requests}, replies ${this.replies})`),
        );
      }, timeout);
      const waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      if (!waiter.check()) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

/**
 * A loopback TCP proxy in front of a redis-server that injects faults into replies, per rule, for
 * the commands whose request matches (see Matcher):
 *
 * - `dropReplyOnce`: the request reaches Redis (a script runs), but its reply is never forwarded:
 *   the client's connection is closed instead. ioredis reconnects and (autoResendUnfulfilledCommands,
 *   on by default) resends the command, so it runs a second time.
 * - `delayReplies`: the reply is held for `ms` (or until `rule.release()`); everything behind it on
 *   that connection waits too, so order is kept.
 * - `watch`: only counts matching requests and their replies (to synchronise a test on them).
 *
 * And per connection: `delay` (ms, each way) for a whole connection, e.g. `delayNewConnections`
 * for the subscriber connection a LockService opens when a caller first has to wait.
 *
 * Requests and replies are parsed as RESP (2 and 3), so each reply is matched to its request by
 * order on its connection; pub/sub messages (which answer no request) are passed through.
 */
export class FaultProxy {
  /** Every connection accepted, in the order opened. */
  readonly connections: ProxyConnection[] = [];
  private readonly rules = new Set<ReplyRule>();
  private newConnectionDelay = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<FaultProxy> {
    const ready: { proxy?: FaultProxy } = {};
    const server = createServer((client) => ready.proxy!.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new FaultProxy(server, (server.address() as { port: number }).port);
    ready.proxy = proxy;
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The first reply to a matching request is lost with its connection; later ones pass. */
  dropReplyOnce(matcher: Matcher): ReplyRule {
    return this.addRule(matcher, { kind: 'drop' }, 1);
  }

  /** Holds the replies to the next `times` matching requests for `ms` (Infinity: until `release()`). */
  delayReplies(matcher: Matcher, ms: number, times = Infinity): ReplyRule {
    return this.addRule(matcher, { kind: 'delay', ms }, times);
  }

  /** Counts matching requests and their replies, changes nothing. */
  watch(matcher: Matcher): ReplyRule {
    return this.addRule(matcher, { kind: 'watch' }, Infinity);
  }

  /** Connections opened from now on are delayed by `ms` each way (0: no longer). */
  delayNewConnections(ms: number): void {
    this.newConnectionDelay = ms;
  }

  /** Every connection, open and to come, is delayed by `ms` each way: network-style slowness (0: none). */
  delayAll(ms: number): void {
    this.newConnectionDelay = ms;
    for (const connection of this.connections) connection.delay = ms;
  }

  /** Removes every rule (held replies keep their release time) and the new-connection delay. */
  reset(): void {
    for (const rule of [...this.rules]) rule.remove();
    this.newConnectionDelay = 0;
  }

  async close(): Promise<void> {
    this.reset();
    for (const connection of this.connections) connection.close();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** @internal The rules taking a request, each with its action. */
  rulesFor(command: readonly string[], raw: Buffer): ReplyRule[] {
    return [...this.rules].filter((rule) => rule.take(command, raw));
  }

  private addRule(matcher: Matcher, action: ReplyAction, budget: number): ReplyRule {
    const rule = new ReplyRule(matcher, action, budget, (removed) => this.rules.delete(removed));
    this.rules.add(rule);
    return rule;
  }

  private accept(client: Socket, targetPort: number): void {
    const connection = new ProxyConnection(this, this.connections.length, client, connect(targetPort, '127.0.0.1'));
    connection.delay = this.newConnectionDelay;
    this.connections.push(connection);
  }
}

interface PipeItem {
  /** When it may go out (performance of Date.now()); 0 = now; Infinity = held until released. */
  due: number;
  data?: Buffer;
  /** Run instead of writing (dropping a reply closes the connection). */
  action?: () => void;
  onSent?: () => void;
}

/** One direction of a connection: items go out in order, each not before it is due. */
class Pipe {
  private readonly items: PipeItem[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly to: Socket) {}

  push(item: PipeItem): void {
    this.items.push(item);
    this.pump();
  }

  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    while (this.items.length > 0 && this.items[0]!.due <= now) {
      const item = this.items.shift()!;
      item.onSent?.();
      if (item.action) item.action();
      else if (item.data && !this.to.destroyed && this.to.writable) this.to.write(item.data);
    }
    const head = this.items[0];
    if (head && Number.isFinite(head.due)) this.timer = setTimeout(() => this.pump(), head.due - now);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.items.length = 0;
  }
}

/** What a forwarded request waits for: how many replies, and the rules acting on them. */
interface PendingRequest {
  replies: number;
  rules: ReplyRule[];
}

/** One client connection and its own connection to Redis. */
export class ProxyConnection {
  /** Added to each direction, in ms; change it at any time (items already queued keep theirs). */
  delay = 0;
  private readonly pending: PendingRequest[] = [];
  private requestBuffer: Buffer = Buffer.alloc(0);
  private replyBuffer: Buffer = Buffer.alloc(0);
  private readonly upstreamPipe: Pipe;
  private readonly downstreamPipe: Pipe;
  private dead = false;
  /** A reply is being dropped: nothing more goes either way on this connection. */
  private dropping = false;

  /** @internal */
  constructor(
    private readonly proxy: FaultProxy,
    readonly index: number,
    private readonly client: Socket,
    private readonly upstream: Socket,
  ) {
    this.upstreamPipe = new Pipe(upstream);
    this.downstreamPipe = new Pipe(client);
    for (const socket of [client, upstream]) {
      // As a client's own connection (ioredis sets it): Nagle would hold a small write back for
      // the peer's delayed ACK (about 40 ms), a delay no real deployment adds.
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      socket.on('close', () => this.close());
    }
    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    upstream.on('data', (chunk: Buffer) => this.fromServer(chunk));
  }

  get closed(): boolean {
    return this.dead;
  }

  close(): void {
    if (this.dead) return;
    this.dead = true;
    this.upstreamPipe.clear();
    this.downstreamPipe.clear();
    this.client.destroy();
    this.upstream.destroy();
  }

  private due(): number {
    return this.delay > 0 ? Date.now() + this.delay : 0;
  }

  private fromClient(chunk: Buffer): void {
    if (this.dead || this.dropping) return;
    this.requestBuffer = this.requestBuffer.length ? Buffer.concat([this.requestBuffer, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const end = valueEnd(this.requestBuffer, start);
      if (end === -1) break;
      const raw = this.requestBuffer.subarray(start, end);
      const command = stringsOf(raw) ?? [];
      if (command[0] !== undefined) command[0] = command[0].toLowerCase();
      this.pending.push({ replies: expectedReplies(command), rules: this.proxy.rulesFor(command, raw) });
      start = end;
    }
    // Requests are forwarded as they come (parsed first, so a reply always finds its request).
    this.upstreamPipe.push({ due: this.due(), data: chunk });
    this.requestBuffer = this.requestBuffer.subarray(start);
  }

  private fromServer(chunk: Buffer): void {
    if (this.dead || this.dropping) return;
    this.replyBuffer = this.replyBuffer.length ? Buffer.concat([this.replyBuffer, chunk]) : chunk;
    let start = 0;
    let passStart = 0;
    const passThrough = (until: number) => {
      if (until > passStart)
        this.downstreamPipe.push({ due: this.due(), data: this.replyBuffer.subarray(passStart, until) });
      passStart = until;
    };
    for (;;) {
      const end = valueEnd(this.replyBuffer, start);
      if (end === -1) break;
      const reply = this.replyBuffer.subarray(start, end);
      const request = unsolicited(reply) ? undefined : this.pending[0];
      if (request) {
        if (--request.replies <= 0) this.pending.shift();
        const acting = request.rules;
        if (acting.length > 0) {
          passThrough(start);
          passStart = end;
          for (const rule of acting) rule.acted();
          const drop = acting.find((rule) => rule.action.kind === 'drop');
          if (drop) {
            // The reply is lost with its connection: what went before it is delivered, then it closes.
            this.dropping = true;
            this.downstreamPipe.push({ due: this.due(), action: () => this.dropConnection() });
            this.replyBuffer = Buffer.alloc(0);
            return;
          }
          let due = this.due();
          let holder: ReplyRule | undefined;
          for (const rule of acting) {
            if (rule.action.kind !== 'delay') continue;
            const ruleDue = Date.now() + rule.action.ms;
            if (ruleDue > due) {
              due = ruleDue;
              holder = rule;
            }
          }
          const item: PipeItem = { due, data: Buffer.from(reply) };
          if (holder) holder.hold(item, this.downstreamPipe);
          this.downstreamPipe.push(item);
        }
      }
      start = end;
    }
    passThrough(start);
    this.replyBuffer = Buffer.from(this.replyBuffer.subarray(start));
  }

  /** Closes the client's side after what is queued before it was written; Redis' side at once. */
  private dropConnection(): void {
    if (this.dead) return;
    this.dead = true;
    this.upstreamPipe.clear();
    this.downstreamPipe.clear();
    this.upstream.destroy();
    this.client.end(() => this.client.destroy());
    setTimeout(() => this.client.destroy(), 100).unref();
  }
}

function matches(matcher: Matcher, command: readonly string[], raw: Buffer): boolean {
  return typeof matcher === 'string' ? raw.includes(matcher) : matcher(command);
}

/** Subscribe-family commands get one reply per channel (at least one). */
function expectedReplies(command: readonly string[]): number {
  const name = command[0] ?? '';
  if (/^(p|s)?(un)?subscribe$/.test(name)) return Math.max(1, command.length - 1);
  return 1;
}

/** Pub/sub deliveries (and RESP3 invalidation pushes) answer no request. */
function unsolicited(reply: Buffer): boolean {
  const type = reply[0];
  if (type !== 0x2a /* * */ && type !== 0x3e /* > */) return false;
  const first = firstString(reply);
  return (
    first === 'message' || first === 'pmessage' || first === 'smessage' || (type === 0x3e && first === 'invalidate')
  );
}

/**
 * The end (exclusive) of the RESP value that starts at `start`, or -1 when it is not complete yet.
 * RESP2 and RESP3 types; an attribute (`|`) is taken together with the value it annotates.
 */
export function valueEnd(buffer: Buffer, start: number): number {
  if (start >= buffer.length) return -1;
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd === -1) return -1;
  const type = String.fromCharCode(buffer[start]!);
  const header = buffer.toString('latin1', start + 1, lineEnd);
  let next = lineEnd + 2;
  switch (type) {
    case '$':
    case '!':
    case '=': {
      const length = Number(header);
      if (!(length >= 0)) return next; // null bulk ($-1)
      const end = next + length + 2;
      return end <= buffer.length ? end : -1;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      let count = Number(header);
      if (!(count >= 0)) return next; // null array (*-1)
      if (type === '%' || type === '|') count *= 2;
      for (let i = 0; i < count; i++) {
        next = valueEnd(buffer, next);
        if (next === -1) return -1;
      }
      return type === '|' ? valueEnd(buffer, next) : next;
    }
    default:
      // + - : _ # , ( and inline commands: one line.
      return next;
  }
}

/** The elements of an aggregate of bulk/simple strings (a request), or undefined. */
function stringsOf(value: Buffer): string[] | undefined {
  const type = value[0];
  if (type !== 0x2a && type !== 0x3e) {
    const line = value.toString('latin1').trim();
    return line ? line.split(/\s+/) : undefined; // an inline command
  }
  const lineEnd = value.indexOf('\r\n');
  const count = Number(value.toString('latin1', 1, lineEnd));
  const strings: string[] = [];
  let position = lineEnd + 2;
  for (let i = 0; i < count; i++) {
    const end = valueEnd(value, position);
    if (end === -1) return undefined;
    strings.push(scalarText(value.subarray(position, end)));
    position = end;
  }
  return strings;
}

function firstString(value: Buffer): string | undefined {
  const lineEnd = value.indexOf('\r\n');
  if (Number(value.toString('latin1', 1, lineEnd)) < 1) return undefined;
  const start = lineEnd + 2;
  const end = valueEnd(value, start);
  return end === -1 ? undefined : scalarText(value.subarray(start, end));
}

function scalarText(value: Buffer): string {
  const lineEnd = value.indexOf('\r\n');
  if (value[0] === 0x24 /* $ */) {
    const length = Number(value.toString('latin1', 1, lineEnd));
    return length < 0 ? '' : value.toString('utf8', lineEnd + 2, lineEnd + 2 + length);
  }
  return value.toString('utf8', 1, lineEnd);
}
