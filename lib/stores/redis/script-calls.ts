import type { BoundedCalls } from './bounded-calls';
import type { RedisConnection } from './create-redis-client';
import type { ScriptName } from './script-commands';
import type { WriteCoalescer } from './write-coalescer';

/**
 * When a command leaves (see WriteCoalescer): 'batched' gathers while other calls are in flight;
 * 'urgent' is written at once, with whatever gathered before it; 'gather' waits for the end of
 * the turn even when nothing else is in flight.
 */
export type WriteMode = 'batched' | 'urgent' | 'gather';

type ScriptCommand = (...argv: (string | number)[]) => Promise<unknown>;

/** Sends the registered scripts (EVALSHA), each call bounded, writes coalesced on one socket. */
export class ScriptCalls {
  constructor(
    private readonly client: RedisConnection,
    private readonly calls: BoundedCalls,
    /** One socket write per turn for a single Redis; a Cluster (undefined) writes at once. */
    private readonly writes: WriteCoalescer | undefined,
  ) {}

  run(
    operation: string,
    script: ScriptName,
    keys: readonly string[],
    args: (string | number)[],
    write: WriteMode = 'batched',
  ): Promise<unknown> {
    const command = (this.client as unknown as Record<string, ScriptCommand>)[script]!;
    // One argument list, built in place (no closure, no spread per call).
    const argv: (string | number)[] = [keys.length];
    for (const key of keys) argv.push(key);
    for (const arg of args) argv.push(arg);
    // An urgent command never starts holding the socket: it only flushes what others gathered.
    if (write !== 'urgent') this.writes?.beforeSend(this.calls.inFlight, write === 'gather');
    // Bounded before the flush: whatever happens there, the call is already tracked.
    const bounded = this.calls.send(operation, command, this.client, argv);
    if (write === 'urgent') this.writes?.flush();
    return bounded;
  }
}
