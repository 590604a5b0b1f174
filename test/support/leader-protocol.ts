/** What the leadership tests tell a leader worker (test/support/leader-worker.ts) to do. */
export type LeaderCommand =
  { cmd: 'campaign'; name: string; ttl: number } | { cmd: 'hold'; key: string; ttl: number } | { cmd: 'exit' };

/** What a leader worker reports back. */
export type LeaderEvent =
  | { event: 'ready' }
  | { event: 'elected'; term: number }
  | { event: 'holding'; fence: number }
  | { event: 'unhandled'; message: string };
