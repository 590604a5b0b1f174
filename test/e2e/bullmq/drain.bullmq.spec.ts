import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DrainChildren, compileDrainChildren } from '../../support/drain-children';
import { RedisServer } from '../../support/redis-server';
import { waitFor } from '../../support/wait-for';

/**
 * Deploys drain instead of abort, with a real queue: two worker processes (test/support/
 * drain-bullmq-worker.ts, each its own Nest app with an @nestjs/bullmq processor) consume one
 * BullMQ queue; every job increments a counter non-atomically under one shared lock, and never
 * looks at its lock's signal. One worker gets SIGTERM while a job of its holds the lock and another
 * waits behind it.
 *
 * How @nestjs/bullmq shuts down (v12): BullExplorer, a provider of the *global* BullModule core
 * module, closes every @Processor worker in its `onApplicationShutdown` (`worker.close()`, which
 * stops fetching and waits for the active jobs to finish). Nest runs each shutdown phase module by
 * module, in increasing import distance with global modules last, so by Nest's own ordering that
 * hook runs after the onApplicationShutdown of a non-global RedisLockModule (and after the HTTP
 * server was closed).
 * Until then the worker keeps processing, and fetching, jobs: their locks must keep working.
 *
 * The queue holds more work (30 x 200 ms) than the grace period (3 s) so that a drain which waits
 * for "no lock held" before letting the worker close would run into its grace period with a job in
 * flight (the worker keeps fetching jobs until it is closed) and show up as a lost update. The
 * SIGTERMed worker's own jobs (at most CONCURRENCY) need well under a second.
 */
const JOBS = 30;
const QUEUE = 'drain-jobs';
const COUNTER_KEY = 'drain:counter';

describe('drain on deploy: BullMQ workers keep and take locks while a SIGTERMed worker finishes its jobs', () => {
  let children: DrainChildren;
  let server: RedisServer | undefined;
  let queue: Queue | undefined;

  beforeAll(async () => {
    children = await compileDrainChildren();
  }, 120_000);

  afterEach(async () => {
    await queue?.close();
    queue = undefined;
    await children.endAll();
    await server?.stop();
    server = undefined;
  });

  afterAll(async () => {
    await children?.close();
  });

  it(`${JOBS} jobs, one worker SIGTERMed mid-job: none fails, the counter is exact, the worker exits 0, no lock is left`, async () => {
    server = await RedisServer.start();
    const env = {
      REDIS_URL: server.url,
      QUEUE,
      LOCK_KEY: 'drain-counter',
      COUNTER_KEY,
      HOLD_MS: '200',
      CONCURRENCY: '2',
      SHUTDOWN_GRACE: '3000',
    };
    const [target, other] = await Promise.all([
      children.start('drain-bullmq-worker', env),
      children.start('drain-bullmq-worker', env),
    ]);
    queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port: server.port } });
    await queue.addBulk(Array.from({ length: JOBS }, (_, i) => ({ name: 'increment', data: { i } })));

    // Both workers have taken jobs; then the target enters a critical section with another job of
    // its own already waiting for the lock, and gets SIGTERM while it sleeps inside.
    await Promise.all([target!.next('active'), other!.next('active')]);
    const inFlight = await target!.next('holding', 30_000, (event) => event.active >= 2);
    target!.signal('SIGTERM');

    const counts = async () => queue!.getJobCounts('completed', 'failed');
    await waitFor(
      async () => {
        const { completed = 0, failed = 0 } = await counts();
        return completed + failed === JOBS;
      },
      60_000,
      100,
    );

    // The SIGTERMed process finished its jobs and exited by itself.
    expect(await target!.exitWithin(30_000)).toEqual({ code: 0, signal: null });
    expect(target!.events).toContainEqual({ event: 'done', jobId: inFlight.jobId });

    const failed = await queue.getFailed();
    expect(failed.map((job) => `job ${job.id}: ${job.failedReason}`)).toEqual([]);
    expect((await counts()).failed).toBe(0);

    // No two sections overlapped: each job read a different counter value, and no update was lost.
    const completed = await queue.getCompleted();
    expect(completed.map((job) => job.returnvalue as number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: JOBS }, (_, i) => i),
    );
    const client = server.client();
    expect(Number(await client.get(COUNTER_KEY))).toBe(JOBS);

    // No lock is left behind (the fence counters, one per hash slot, are not under `lock:`).
    const locks = await client.keys('lock:*');
    expect(locks).toEqual([]);
    expect(other!.alive).toBe(true);
    expect(other!.events.filter((event) => event.event === 'done').length).toBeGreaterThan(0);
    expect([...target!.unhandled(), ...other!.unhandled()]).toEqual([]);
  }, 120_000);
});
