import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LeaderOnly, type Leadership, LockArgumentError, LockLostError, LockService, RedisLockModule } from '../../lib';
import { STORES, type StoreRun } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

/** Counts its runs; only the leader of "nightly" runs it. */
@Injectable()
class NightlyJob {
  runs = 0;

  @LeaderOnly('nightly', { ttl: 2_000 })
  run(round: number): number {
    this.runs++;
    return round;
  }
}

/** The leaders among `leaderships` now. */
const leaders = (leaderships: readonly Leadership[]) => leaderships.filter((leadership) => leadership.isLeader);

describe.each(STORES)('leader election on the $name store', (descriptor) => {
  let run: StoreRun;
  let modules: TestingModule[] = [];
  let n = 0;
  const role = () => `role-${++n}`;
  /** Replicas: three apps on the store (the memory store is one process, so one app). */
  const count = descriptor.name === 'memory' ? 1 : 3;

  async function replica(): Promise<{ module: TestingModule; locks: LockService; job: NightlyJob }> {
    const module = await Test.createTestingModule({
      // The default shutdownGrace (10 s): a closing leader must resign, not drain.
      imports: [RedisLockModule.forRoot(run.options)],
      providers: [NightlyJob],
    }).compile();
    await module.init();
    modules.push(module);
    return { module, locks: module.get(LockService), job: module.get(NightlyJob) };
  }

  beforeAll(async () => {
    run = await descriptor.start();
  });
  afterEach(async () => {
    for (const module of modules.splice(0)) await module.close();
  });
  afterAll(() => run?.stop());

  it('exactly one replica leads at every sample, and the leader can wait for and read its term', async () => {
    const replicas = await Promise.all(Array.from({ length: count }, replica));
    const name = role();
    const leaderships = replicas.map(({ locks }) => locks.campaign(name, { ttl: 1_000 }));
    const term = await Promise.race(leaderships.map((leadership) => leadership.elected()));
    for (let sample = 0; sample < 100; sample++) {
      expect(leaders(leaderships)).toHaveLength(1);
      await sleep(15);
    }
    const [leader] = leaders(leaderships);
    expect(leader!.term).toBe(term);
    expect(leader!.signal.aborted).toBe(false);
    const inspected = await replicas[0]!.locks.inspect(`leader:${name}`);
    expect(inspected.holders.map((holder) => holder.fence)).toEqual([term]);
    for (const follower of leaderships.filter((leadership) => !leadership.isLeader)) {
      expect(follower.term).toBeUndefined();
      expect(follower.signal.aborted).toBe(true);
    }
    await Promise.all(leaderships.map((leadership) => leadership.resign()));
    expect(leaders(leaderships)).toHaveLength(0);
  });

  it.skipIf(count === 1)(
    "a leader whose app closes is replaced within a release notification, not a ttl, with a higher term; its term's signal aborts",
    async () => {
      const replicas = await Promise.all(Array.from({ length: count }, replica));
      const name = role();
      const ttl = 10_000;
      const leaderships = replicas.map(({ locks }) => locks.campaign(name, { ttl }));
      const term = await Promise.race(leaderships.map((leadership) => leadership.elected()));
      const index = leaderships.findIndex((leadership) => leadership.isLeader);
      const { signal } = leaderships[index]!;
      const closing = Date.now();
      await replicas[index]!.module.close();
      modules = modules.filter((module) => module !== replicas[index]!.module);
      expect(signal.aborted).toBe(true);
      await waitFor(() => leaders(leaderships).length === 1, 5_000, 5);
      const tookOver = Date.now() - closing;
      // Well under the 10 s lease: the resigning leader's release woke the others.
      expect(tookOver).toBeLessThan(1_000);
      expect(leaders(leaderships)[0]!.term).toBeGreaterThan(term);
      await expect(leaderships[index]!.elected()).rejects.toThrow(/resigned/);
    },
  );

  it.skipIf(count === 1)(
    'a leader that loses its lock steps down at once (its signal aborts) and campaigns again; the next term is higher',
    async () => {
      const replicas = await Promise.all(Array.from({ length: count }, replica));
      const name = role();
      const leaderships = replicas.map(({ locks }) => locks.campaign(name, { ttl: 900 }));
      const term = await Promise.race(leaderships.map((leadership) => leadership.elected()));
      const old = leaders(leaderships)[0]!;
      const { signal } = old;
      const stepped = new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
      expect(await replicas[0]!.locks.forceRelease(`leader:${name}`)).toBe(true);
      const reason = await stepped;
      expect(reason).toBeInstanceOf(LockLostError);
      expect(old.isLeader).toBe(false);
      await waitFor(() => leaders(leaderships).length === 1, 5_000, 5);
      expect(leaders(leaderships)[0]!.term).toBeGreaterThan(term);
      // The old leader campaigns again: it leads once the new one resigns.
      for (const leadership of leaders(leaderships)) await leadership.resign();
      if (!old.isLeader) await waitFor(() => leaders(leaderships).length === 1, 5_000, 5);
      expect(leaders(leaderships)).toHaveLength(1);
    },
  );

  it('@LeaderOnly called every 100 ms on every replica runs exactly once per round; elsewhere it returns undefined', async () => {
    const replicas = await Promise.all(Array.from({ length: count }, replica));
    // The explorer started each replica's campaign at bootstrap.
    await waitFor(
      () => replicas.some(({ locks }) => locks.leaderships().some((held) => held.name === 'nightly')),
      10_000,
    );
    for (let round = 0; round < 20; round++) {
      const before = replicas.map(({ job }) => job.runs);
      const answers = replicas.map(({ job }) => job.run(round));
      const ran = replicas.map(({ job }, i) => job.runs - before[i]!);
      expect(ran.reduce((sum, one) => sum + one, 0)).toBe(1);
      expect(answers.filter((answer) => answer === round)).toHaveLength(1);
      expect(answers.filter((answer) => answer === undefined)).toHaveLength(count - 1);
      await sleep(100);
    }
  });

  it('bad names and options are argument errors, before anything reaches the store', () => {
    const locks = new Promise<LockService>((resolve) => void replica().then(({ locks }) => resolve(locks)));
    return locks.then((service) => {
      for (const bad of ['', '  ', 42, null, undefined, ['a']] as unknown[]) {
        expect(() => service.campaign(bad as string)).toThrow(LockArgumentError);
      }
      expect(() => service.campaign('ok', { ttl: 0 })).toThrow(LockArgumentError);
      expect(() => service.campaign('ok', { wait: 5 } as never)).toThrow(LockArgumentError);
      expect(() => LeaderOnly('')).toThrow(LockArgumentError);
    });
  });
});
