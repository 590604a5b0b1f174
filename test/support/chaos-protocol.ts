/** What the chaos tests tell a worker process (test/support/chaos-worker.ts) to do. */
export type WorkerCommand =
  | { cmd: 'count'; key: string; counterKey: string; callers: number; sections: number; maxDelay: number }
  | { cmd: 'hold'; key: string; ttl: number; limit?: number }
  | { cmd: 'release' }
  | { cmd: 'acquire'; key: string; wait: number; hold: number }
  | { cmd: 'exit' };

/** What a worker reports back. */
export type WorkerEvent =
  | { event: 'ready' }
  | { event: 'counted'; seen: { read: number; fence: number }[] }
  | { event: 'holding'; fence: number; token: string }
  | { event: 'lost'; reason: string }
  | { event: 'released'; released: boolean }
  | { event: 'acquired'; fence: number }
  | { event: 'failed'; error: string; message: string }
  | { event: 'unhandled'; message: string };
