import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { LockStoreError } from '../../core/errors';
import { QUORUM_TOO_SLOW } from '../../core/lock.messages';
import { reliableLength } from '../../core/utils/reliable-length';
import type { LockTarget } from '../lock-store.interface';
import type { RedisStore } from '../redis/redis.store';
import { SCRIPTS } from '../redis/script-commands';
import { type Answer, askMajority, majorityOf } from './majority';
import { quorumUnreachable } from './quorum-errors';
import { quorumKeysOf } from './quorum-keys';

/** One node's phase-1 answer: the fence it proposes for the grant (the quorum picks from them). */
export interface NodeProposal {
  /** Whether the giver owned every key there (hand-over). */
  readonly owned: boolean;
  /** A proposed fence (> 0) when the node took the keys; else minus the blocking lease's ms left. */
  readonly fence: number;
  /** The node already held the keys for this token, and `fence` is what phase 2 recorded there. */
  readonly recorded: boolean;
}

/** A phase-1 script's reply, { owned, fence or minus ms left, recorded }. */
function toNodeProposal(reply: unknown): NodeProposal {
  const [owned, fence, recorded] = (reply as unknown[]).map(Number);
  return { owned: owned === 1, fence: fence!, recorded: recorded === 1 };
}

export interface GrantRequest extends LockTarget {
  readonly operation: 'acquire' | 'handOver';
  /** The token the lock is granted to. */
  readonly token: string;
  readonly ttl: number;
  /** Tokens to let go of on every node that may hold them when the grant fails. */
  readonly undoTokens: readonly string[];
  /** Phase 1 on one node: take the keys (all or none) and propose a fence; the script's reply. */
  propose(node: RedisStore): Promise<unknown>;
}

/** The majority's verdict on a grant, answered to the caller as a store answers (AcquireAttempt, HandOverResult). */
export interface QuorumAnswer {
  /** The granted fence, or null: busy (a majority answered, too few took the keys). */
  readonly fence: number | null;
  /** When busy: the blocking lease's time left (ms, 0 if unknown). */
  readonly remaining: number;
  /** Whether a majority said the giver owned every key (hand-over). */
  readonly owned: boolean;
}

/**
 * A lock granted by a majority of independent nodes, in two parallel round trips. Phase 1: every
 * node takes the keys and proposes a fence. When a majority took them, F = the highest proposal;
 * phase 2 writes F back to those nodes (raising their counters, only where the token still holds
 * the keys), and a majority must confirm within the lease's validity (ttl less the time taken
 * since phase 1 was sent, less the drift allowance). Anything short of that is undone on every
 * node that may hold the keys, and answered busy (a majority answered, the key is taken),
 * unreachable (LockStoreError), or too slow (LockStoreError).
 */
export async function grantByMajority(nodes: readonly RedisStore[], request: GrantRequest): Promise<QuorumAnswer> {
  const { operation, keys, token, ttl } = request;
  const sentAt = performance.now();
  const count = nodes.length;
  const everyNode = nodes.map((_, index) => index);
  const asked = nodes.map((node) => request.propose(node).then(toNodeProposal));
  const proposals = await askMajority(
    count,
    everyNode,
    (node) => asked[node]!,
    (p) => p.fence > 0,
  );
  const answers = [...proposals.yes, ...proposals.no];
  const owned = answers.filter((answer) => answer.value.owned).length >= majorityOf(count);
  if (proposals.outcome !== 'yes') {
    // Nodes that answered busy took nothing; any other may hold the keys, or take them later.
    const busy = new Set(proposals.no.map((answer) => answer.node));
    const mayHold = everyNode.filter((node) => !busy.has(node));
    withdraw(nodes, mayHold, keys, token);
    undo(
      nodes,
      mayHold,
      request,
      request.undoTokens.filter((other) => other !== token),
    );
    if (proposals.outcome === 'unreachable') throw quorumUnreachable(operation, count, proposals);
    const left = proposals.no.map((answer) => -answer.value.fence).filter((ms) => ms > 0);
    return { fence: null, remaining: left.length > 0 ? Math.min(...left) : 0, owned };
  }
  const granting = await withLateAnswers(proposals.yes, proposals.silent, asked);
  const fence = chooseFence(
    granting.map((answer) => answer.value),
    majorityOf(count),
  );
  const writeFence = (node: number) =>
    nodes[node]!.call('fence', SCRIPTS.quorumFence, quorumKeysOf(keys), [token, String(fence)]).then(Number);
  // Nodes that take the keys after the verdict get the fence too (a later re-run then finds it
  // recorded there); it is written only where the token still holds the keys, so an undo queued
  // before it leaves nothing behind.
  const writers = granting.map((answer) => answer.node);
  for (const node of proposals.silent.filter((silent) => !writers.includes(silent))) {
    asked[node]!.then((late) => (late.fence > 0 ? writeFence(node) : undefined)).catch(() => undefined);
  }
  const written = await askMajority(count, writers, writeFence, (reply) => reply === 1);
  const elapsed = performance.now() - sentAt;
  if (written.outcome === 'yes' && elapsed < reliableLength(ttl)) return { fence, remaining: 0, owned };
  undo(nodes, everyNode, request, request.undoTokens);
  if (written.outcome === 'unreachable') throw quorumUnreachable(operation, count, written);
  // Confirmed too late, or the keys ran out on a majority meanwhile: nothing left to rely on.
  throw new LockStoreError(QUORUM_TOO_SLOW(operation, Math.round(elapsed), ttl));
}

/**
 * A re-run (some node answered with a recorded fence) waits for every node's answer, each bounded
 * by storeTimeout: a node that took the keys late in the first run may have answered the re-run
 * before that run's fence reached it, and the nodes that did record it make the majority.
 */
async function withLateAnswers(
  yes: readonly Answer<NodeProposal>[],
  silent: readonly number[],
  asked: readonly Promise<NodeProposal>[],
): Promise<Answer<NodeProposal>[]> {
  if (!yes.some((answer) => answer.value.recorded) || silent.length === 0) return [...yes];
  const late = await Promise.allSettled(silent.map(async (node) => ({ node, value: await asked[node]! })));
  const took = late.flatMap((result) =>
    result.status === 'fulfilled' && result.value.value.fence > 0 ? [result.value] : [],
  );
  return [...yes, ...took];
}

/**
 * The fence to grant: the highest proposal, which exceeds every fence granted before (see
 * quorum.store.ts). A re-run by a token that holds the lock already is answered with the fence
 * phase 2 recorded for it on a majority: no other grant can have come between (it would need a
 * majority, and that shares a node the token held all along).
 */
function chooseFence(proposals: readonly NodeProposal[], quorum: number): number {
  const recorded = proposals.filter((proposal) => proposal.recorded).map((proposal) => proposal.fence);
  const again = recorded.find((fence) => recorded.filter((other) => other === fence).length >= quorum);
  return again ?? Math.max(...proposals.map((proposal) => proposal.fence));
}

/**
 * Takes back, unannounced, what a grant that a majority refused took on `targets`. Announced, it
 * would wake the waiters of this key, this one first: while the keys stay held on a majority (a
 * holder whose key expired on one node, or whose release is still on its way to the others), each
 * failed attempt's undo would wake the next attempt at once, in a loop for as long as that lasts.
 * A waiter elsewhere that this transient grant made fail polls, as after any busy answer.
 */
function withdraw(
  nodes: readonly RedisStore[],
  targets: readonly number[],
  keys: readonly string[],
  token: string,
): void {
  // The release script with no publish command ('').
  for (const node of targets) nodes[node]!.call('release', SCRIPTS.release, keys, [token, '']).catch(() => undefined);
}

/**
 * Queues a compare-and-delete per token on each of `targets`, behind anything still in flight on
 * the same connection: it only ever deletes what that token owns, announced under one id.
 */
export function undo(
  nodes: readonly RedisStore[],
  targets: readonly number[],
  { kind, keys }: LockTarget,
  tokens: readonly string[],
): void {
  const releaseId = randomUUID();
  for (const node of targets) {
    for (const token of tokens) nodes[node]!.release({ kind, keys, token, releaseId }).catch(() => undefined);
  }
}
