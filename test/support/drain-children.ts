import { type ChildApp, ChildApps } from './child-apps';
import type { DrainEvent } from './drain-protocol';

/** A child app of the drain tests (drain-bullmq-worker.ts, drain-http-app.ts). */
export type DrainChild = ChildApp<DrainEvent>;
export type DrainChildren = ChildApps<DrainEvent>;

/** Compiles the drain tests' apps; each ends by SIGTERM, as a deploy ends a pod. */
export function compileDrainChildren(): Promise<DrainChildren> {
  return ChildApps.compile<DrainEvent>((child) => child.signal('SIGTERM'));
}
