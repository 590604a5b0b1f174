import { randomUUID } from 'node:crypto';
import type { ForcedRelease, KeyHolding, LockTarget } from '../lock-store.interface';
import type { RedisStore } from '../redis/redis.store';
import { type Verdict, majorityOf } from './majority';
import { quorumUnreachable } from './quorum-errors';

/**
 * Who holds each key on a quorum: the token a majority of nodes names. Its fence is the highest
 * counter among them (phase 2 raised a majority's counters to it), its time left the longest one
 * a majority still covers. Waits for every node's answer (each bounded), a majority at least.
 */
export async function inspectQuorum(nodes: readonly RedisStore[], target: LockTarget): Promise<KeyHolding[]> {
  const answers = await fromEveryNode(nodes, 'inspect', (node) => node.inspect(target));
  const quorum = majorityOf(nodes.length);
  return target.keys.flatMap((key) => {
    const seen = answers.flatMap((holdings) => holdings.filter((holding) => holding.key === key));
    for (const token of new Set(seen.map((holding) => holding.token))) {
      const held = seen.filter((holding) => holding.token === token);
      if (held.length < quorum) continue;
      const left = held.map((holding) => holding.expiresIn).sort((a, b) => b - a);
      const fence = Math.max(...seen.map((holding) => holding.fence));
      return [{ key, token, kind: held[0]!.kind, fence, expiresIn: left[quorum - 1]! }];
    }
    return [];
  });
}

/**
 * Frees the keys on every node, announced under one release id (listeners hear it once). What a
 * majority held is reported as inspect names it, what fewer nodes held as one of them had it; the
 * counters stay, so the next grant's fence is above the freed one.
 */
export async function forceReleaseQuorum(nodes: readonly RedisStore[], target: LockTarget): Promise<ForcedRelease[]> {
  const request = { kind: target.kind, keys: target.keys, releaseId: randomUUID() };
  const holdings = await inspectQuorum(nodes, target);
  const freed = (await fromEveryNode(nodes, 'forceRelease', (node) => node.forceRelease(request))).flat();
  // A key held by a majority is reported as the majority's; one only some nodes held, as found there.
  const reported = holdings.map(({ key, token, fence }) => ({ key, token, fence }));
  for (const release of freed) {
    if (!reported.some((entry) => entry.key === release.key)) reported.push(release);
  }
  return reported;
}

/** Every node's answer; fails when fewer than a majority answered. */
async function fromEveryNode<T>(
  nodes: readonly RedisStore[],
  operation: string,
  ask: (node: RedisStore) => Promise<T>,
): Promise<T[]> {
  const settled = await Promise.allSettled(nodes.map(ask));
  const answers = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  if (answers.length >= majorityOf(nodes.length)) return answers;
  const errors = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  const silent = settled.flatMap((result, node) => (result.status === 'rejected' ? [node] : []));
  const verdict: Verdict<unknown> = { outcome: 'unreachable', yes: [], no: [], silent, errors };
  throw quorumUnreachable(operation, nodes.length, verdict);
}
