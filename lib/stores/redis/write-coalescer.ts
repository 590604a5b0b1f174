import type { RedisConnection } from './create-redis-client';
import { WRITE_BATCH } from '../../core/tuning';

interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Lets commands sent close together leave in fewer socket writes. Many callers taking locks at
 * once otherwise pay a write system call per command, the largest CPU cost of an uncontended
 * lock. While other commands are in flight, a command holds the socket (cork) until WRITE_BATCH
 * commands have gathered or the turn's microtasks are drained (process.nextTick runs then),
 * whichever comes first: batches big enough to save the system calls, small enough that Redis
 * starts on the first while this process still prepares the rest (one unbounded batch per turn
 * measured slower than no batching: the two processes took turns instead of overlapping). A
 * command sent while nothing else is in flight (one caller at a time) is written at once.
 * Only a single Redis connection (not a Cluster's many), and only while it is ready (commands
 * queued offline are not written anyway). @internal
 */
export class WriteCoalescer {
  private held: Corkable | undefined;
  /** Commands written into the held socket since it was last flushed. */
  private gathered = 0;

  constructor(private readonly client: RedisConnection) {}

  /** Writes what has gathered now (the socket stays held for the rest of the turn). */
  flush(): void {
    if (!this.held) return;
    this.gathered = 0;
    this.held.uncork();
    this.held.cork();
  }

  /**
   * Called just before a command is sent; `inFlight`: the store's calls not yet answered.
   * `gather`: hold it for the rest of the turn even when nothing else is in flight.
   */
  beforeSend(inFlight: number, gather = false): void {
    if (this.held) {
      if (++this.gathered >= WRITE_BATCH) this.flush();
      return;
    }
    if (inFlight === 0 && !gather) return;
    const { status, stream } = this.client as unknown as { status: string; stream?: Partial<Corkable> };
    if (status !== 'ready' || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
    const socket = stream as Corkable;
    socket.cork();
    this.held = socket;
    this.gathered = 1;
    process.nextTick(() => {
      this.gathered = 0;
      this.held = undefined;
      socket.uncork();
    });
  }
}
