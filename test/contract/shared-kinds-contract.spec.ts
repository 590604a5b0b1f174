import { describe, expect, it } from 'vitest';
import type { LockKind, LockStore } from '../../lib/stores/lock-store.interface';
import { storePerSuite } from '../support/store-per-suite';
import { IOVALKEY_STORE, STORES } from '../support/stores';
import { sleep, waitFor } from '../support/wait-for';

const TIMEOUT = 2_000;
const LONG = 30_000;

/**
 * The store contract for permits (a counting lock) and readers (a read-write lock): the atomic
 * steps of each kind, on every store that lists the kind in its capabilities (the others skip).
 */
describe.each([...STORES, IOVALKEY_STORE])('permits and readers on the $name store', (descriptor) => {
  let store: LockStore;
  const { key, token } = storePerSuite(descriptor, {
    prefix: 'shared:',
    timeout: TIMEOUT,
    onStart: (started) => ({ store } = started),
  });

  const permit = (k: string, owner: string, limit: number, ttl = LONG) =>
    store.tryAcquire({ kind: 'permit', keys: [k], token: owner, ttl, limit });
  const read = (k: string, owner: string, ttl = LONG) =>
    store.tryAcquire({ kind: 'read', keys: [k], token: owner, ttl });
  const mutex = (k: string, owner: string, ttl = LONG) =>
    store.tryAcquire({ kind: 'mutex', keys: [k], token: owner, ttl });
  const release = (kind: LockKind, k: string, owner: string) => store.release({ kind, keys: [k], token: owner });
  const needs = (kind: LockKind, skip: (note?: string) => void) => {
    if (!store.capabilities.kinds.includes(kind)) skip(`the ${descriptor.name} store does not implement ${kind}`);
  };

  it('permits: at most `limit` holders, each with a fence above the last; a release makes room', async ({ skip }) => {
    needs('permit', skip);
    const k = key();
    const [a, b, c] = [token(), token(), token()];
    const first = await permit(k, a, 2, 5_000);
    const second = await permit(k, b, 2);
    expect(first.fence).toBeGreaterThan(0);
    expect(second.fence).toBeGreaterThan(first.fence!);
    const busy = await permit(k, c, 2);
    expect(busy.fence).toBeNull();
    // The earliest permit's lease left (a's, 5 s).
    expect(busy.fence === null && busy.remaining).toBeGreaterThan(3_000);
    expect(busy.fence === null && busy.remaining).toBeLessThanOrEqual(5_000);
    expect(await release('permit', k, a)).toBe(true);
    expect(await release('permit', k, a)).toBe(false);
    const third = await permit(k, c, 2);
    expect(third.fence).toBeGreaterThan(second.fence!);
    for (const owner of [b, c]) expect(await release('permit', k, owner)).toBe(true);
  });

  it('permits: each caller counts against its own limit', async ({ skip }) => {
    needs('permit', skip);
    const k = key();
    const [a, b, c] = [token(), token(), token()];
    expect((await permit(k, a, 3)).fence).not.toBeNull();
    expect((await permit(k, b, 1)).fence).toBeNull();
    expect((await permit(k, b, 3)).fence).not.toBeNull();
    expect((await permit(k, c, 2)).fence).toBeNull();
    for (const owner of [a, b]) await release('permit', k, owner);
  });

  it('permits: a re-run by the holder answers the fence it was issued, and takes no second permit', async ({
    skip,
  }) => {
    needs('permit', skip);
    const k = key();
    const a = token();
    const first = await permit(k, a, 1);
    expect(await permit(k, a, 1)).toEqual(first);
    expect((await permit(k, token(), 2)).fence).not.toBeNull();
  });

  it('permits: extend renews only a live permit of its token; an unrenewed one ends after its ttl', async ({
    skip,
  }) => {
    needs('permit', skip);
    const k = key();
    const [a, b] = [token(), token()];
    await permit(k, a, 1, 300);
    expect(await store.extend({ kind: 'permit', keys: [k], token: a, ttl: 300 })).toBe(true);
    expect(await store.extend({ kind: 'permit', keys: [k], token: b, ttl: 300 })).toBe(false);
    expect((await permit(k, b, 1)).fence).toBeNull();
    await waitFor(async () => (await permit(k, b, 1)).fence !== null, 3_000);
    expect(await store.extend({ kind: 'permit', keys: [k], token: a, ttl: 300 })).toBe(false);
  });

  it('a mutex waits while any permit holds the key, and permits wait while the mutex does', async ({ skip }) => {
    needs('permit', skip);
    const k = key();
    const [a, m] = [token(), token()];
    const held = await permit(k, a, 3);
    expect((await mutex(k, m)).fence).toBeNull();
    expect(await store.extend({ kind: 'mutex', keys: [k], token: a, ttl: LONG })).toBe(false);
    expect(await store.release({ kind: 'mutex', keys: [k], token: a })).toBe(false);
    expect(await store.isLocked([k])).toBe(true);
    await release('permit', k, a);
    const won = await mutex(k, m);
    expect(won.fence).toBeGreaterThan(held.fence!);
    expect((await permit(k, token(), 3)).fence).toBeNull();
    expect((await read(k, token())).fence).toBeNull();
    await release('mutex', k, m);
  });

  it("handOver of a permit: the giver's share goes, the receiver's comes with a higher fence, unannounced", async ({
    skip,
  }) => {
    needs('permit', skip);
    const k = key();
    const [a, b, c] = [token(), token(), token()];
    const given = await permit(k, a, 2);
    await permit(k, b, 2);
    let heard = 0;
    const stop = await store.onRelease([k], () => heard++);
    const handed = await store.handOver({ kind: 'permit', keys: [k], from: a, to: c, ttl: LONG, limit: 2 });
    expect(handed.owned).toBe(true);
    expect(handed.fence).toBeGreaterThan(given.fence!);
    expect(await store.extend({ kind: 'permit', keys: [k], token: a, ttl: LONG })).toBe(false);
    expect(await store.extend({ kind: 'permit', keys: [k], token: c, ttl: LONG })).toBe(true);
    // A re-run answers the same.
    expect(await store.handOver({ kind: 'permit', keys: [k], from: a, to: c, ttl: LONG, limit: 2 })).toMatchObject({
      owned: true,
      fence: handed.fence,
    });
    await sleep(50);
    expect(heard).toBe(0);
    stop();
    for (const owner of [b, c]) await release('permit', k, owner);
  });

  it("handOver of a share to a receiver that may not have one: no fence, the giver's share released and announced", async ({
    skip,
  }) => {
    needs('read', skip);
    const k = key();
    const [a, b] = [token(), token()];
    await read(k, a);
    await read(k, b);
    expect((await mutex(k, token())).fence).toBeNull(); // a writer waits: no new reader
    let heard = 0;
    const stop = await store.onRelease([k], () => heard++);
    const handed = await store.handOver({ kind: 'read', keys: [k], from: a, to: token(), ttl: LONG });
    expect(handed).toMatchObject({ owned: true, fence: null });
    expect(await store.extend({ kind: 'read', keys: [k], token: a, ttl: LONG })).toBe(false);
    await waitFor(() => heard >= 1, 2_000);
    stop();
    await release('read', k, b);
  });

  it('a release of a share is announced to listeners', async ({ skip }) => {
    needs('permit', skip);
    const k = key();
    const a = token();
    await permit(k, a, 1);
    let heard = 0;
    const stop = await store.onRelease([k], () => heard++);
    await release('permit', k, a);
    await waitFor(() => heard >= 1, 2_000);
    stop();
  });

  it('readers share; a writer waits for all of them, holds back later readers, then excludes them', async ({
    skip,
  }) => {
    needs('read', skip);
    const k = key();
    const readers = [token(), token(), token()];
    const fences: number[] = [];
    for (const reader of readers) fences.push((await read(k, reader)).fence!);
    expect(fences.every((fence) => fence > 0)).toBe(true);
    expect(new Set(fences).size).toBe(3);
    const writer = token();
    expect((await mutex(k, writer)).fence).toBeNull();
    // The writer's attempt marked the key: a reader that comes later waits behind it.
    expect((await read(k, token())).fence).toBeNull();
    for (const reader of readers) await release('read', k, reader);
    const wrote = await mutex(k, writer);
    expect(wrote.fence).toBeGreaterThan(Math.max(...fences));
    expect((await read(k, token())).fence).toBeNull();
    await release('mutex', k, writer);
    // The mark went with the writer: readers are back at once.
    expect((await read(k, token())).fence).toBeGreaterThan(wrote.fence!);
  });

  it("a writer's mark lapses soon after the writer stops asking", async ({ skip }) => {
    needs('read', skip);
    const k = key();
    const reader = token();
    await read(k, reader);
    expect((await mutex(k, token())).fence).toBeNull();
    expect((await read(k, token())).fence).toBeNull();
    await sleep(100);
    await waitFor(async () => (await read(k, token())).fence !== null, 5_000);
  });

  it("a mutex's extend, release and hand-over find a key held by shares not theirs, and leave the shares alone", async ({
    skip,
  }) => {
    needs('permit', skip);
    const k = key();
    const [holder, stranger] = [token(), token()];
    await permit(k, holder, 2);
    expect(await store.extend({ kind: 'mutex', keys: [k], token: stranger, ttl: LONG })).toBe(false);
    expect(await release('mutex', k, stranger)).toBe(false);
    expect(await store.handOver({ kind: 'mutex', keys: [k], from: stranger, to: token(), ttl: LONG })).toMatchObject({
      owned: false,
      fence: null,
    });
    expect(await store.extend({ kind: 'permit', keys: [k], token: holder, ttl: LONG })).toBe(true);
    expect(await release('permit', k, holder)).toBe(true);
  });

  it('inspect lists each permit and each reader: its kind, token, fence and time left', async ({ skip }) => {
    needs('permit', skip);
    needs('read', skip);
    const [permits, readers] = [key(), key()];
    const [a, b, r1, r2] = [token(), token(), token(), token()];
    const fences = new Map<string, number | null>([
      [a, (await permit(permits, a, 3, 5_000)).fence],
      [b, (await permit(permits, b, 3, LONG)).fence],
      [r1, (await read(readers, r1)).fence],
      [r2, (await read(readers, r2)).fence],
    ]);
    const holdings = await store.inspect({ kind: 'permit', keys: [permits, readers] });
    expect(holdings).toHaveLength(4);
    for (const holding of holdings) {
      expect(holding.key).toBe([a, b].includes(holding.token) ? permits : readers);
      expect(holding.kind).toBe([a, b].includes(holding.token) ? 'permit' : 'read');
      expect(holding.fence).toBe(fences.get(holding.token));
      expect(holding.expiresIn).toBeGreaterThan(holding.token === a ? 3_000 : 20_000);
      expect(holding.expiresIn).toBeLessThanOrEqual(holding.token === a ? 5_000 : LONG);
    }
    for (const owner of [a, b]) await release('permit', permits, owner);
    expect(await store.inspect({ kind: 'permit', keys: [permits] })).toEqual([]);
    for (const owner of [r1, r2]) await release('read', readers, owner);
  });

  it("inspect leaves out a waiting writer's mark, and a mutex waits on: it is not a holder", async ({ skip }) => {
    needs('read', skip);
    const k = key();
    const reader = token();
    const { fence } = await read(k, reader);
    expect((await mutex(k, token())).fence).toBeNull(); // marks the key
    expect(await store.inspect({ kind: 'read', keys: [k] })).toMatchObject([
      { key: k, token: reader, kind: 'read', fence },
    ]);
    await release('read', k, reader);
  });

  it('forceRelease frees every share of a key at once, announces it, reports each; the next fence is above them', async ({
    skip,
  }) => {
    needs('permit', skip);
    const k = key();
    const stuck = [token(), token()];
    const fences = [(await permit(k, stuck[0]!, 2)).fence!, (await permit(k, stuck[1]!, 2)).fence!];
    let heard = 0;
    const stop = await store.onRelease([k], () => heard++);
    const freed = await store.forceRelease({ kind: 'permit', keys: [k] });
    expect([...freed].sort((x, y) => x.fence - y.fence)).toEqual(
      stuck.map((owner, i) => ({ key: k, token: owner, fence: fences[i] })),
    );
    await waitFor(() => heard >= 1, 2_000);
    stop();
    expect(await store.isLocked([k])).toBe(false);
    expect(await store.extend({ kind: 'permit', keys: [k], token: stuck[0]!, ttl: LONG })).toBe(false);
    expect(await release('permit', k, stuck[1]!)).toBe(false);
    const next = token();
    const taken = await mutex(k, next);
    expect(taken.fence).toBeGreaterThan(Math.max(...fences));
    expect(await store.forceRelease({ kind: 'mutex', keys: [k] })).toEqual([
      { key: k, token: next, fence: taken.fence },
    ]);
    expect(await store.forceRelease({ kind: 'permit', keys: [k] })).toEqual([]);
  });
});
