import type { WorkerCommand, WorkerEvent } from './chaos-protocol';
import { type ChildApp, ChildApps } from './child-apps';

/** A chaos worker process (test/support/chaos-worker.ts), driven over IPC. */
export type ChaosWorker = ChildApp<WorkerEvent, WorkerCommand>;
export type ChaosWorkers = ChildApps<WorkerEvent, WorkerCommand>;

/** Compiles the chaos worker; each is asked to close its app and exit when the test ends. */
export function compileChaosWorkers(): Promise<ChaosWorkers> {
  return ChildApps.compile<WorkerEvent, WorkerCommand>((worker) => worker.send({ cmd: 'exit' }));
}
