/** What the child apps of the drain tests (drain-bullmq-worker.ts, drain-http-app.ts) report over IPC. */
export type DrainEvent =
  /** The app is up (HTTP apps: listening on `url`). */
  | { event: 'ready'; url?: string }
  /** BullMQ worker: a job became active in this process (it may still be waiting for the lock). */
  | { event: 'active'; jobId: string; active: number }
  /** BullMQ worker: a job entered its critical section (holds the lock); `active` jobs in this process. */
  | { event: 'holding'; jobId: string; active: number }
  /** BullMQ worker: a job left its critical section. */
  | { event: 'done'; jobId: string }
  /** HTTP app: a handler started running under its lock. */
  | { event: 'entered'; route: string }
  | { event: 'unhandled'; message: string };
