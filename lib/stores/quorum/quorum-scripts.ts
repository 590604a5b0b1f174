import { FENCES } from '../redis/fence-scripts';
import { GIVER, HELD_BY, REMAINING } from '../redis/lua-scripts';

/**
 * The per-node steps of the quorum (Redlock) store. A grant takes two: the node takes the keys
 * and proposes a fence (phase 1, QUORUM_ACQUIRE or QUORUM_HAND_OVER); once a majority took them,
 * the highest proposal F is written back to the nodes that took them (phase 2, QUORUM_FENCE),
 * and a majority must confirm before the lock is granted. Any later majority shares a node with
 * that one, so it proposes more than F (see fence-proof in quorum.store.ts).
 *
 * Key layout for a lock over n keys: KEYS[1..n] the lock keys, KEYS[n+1..2n] the fence counters of
 * their hash slots (see fence-scripts.ts). A lock key's value is `<token> <fence>`: phase 1 writes
 * fence 0 (not granted yet), phase 2 the granted fence, which a re-run answers with. No record
 * outlives the lease.
 */

/**
 * Proposals: a fresh one is next_fence (see fence-scripts.ts: above every counter here, not below
 * the server's clock in microseconds, as on one Redis; with blocks of 1, as a quorum's grants are
 * confirmed before their holders start).
 */
const PROPOSALS = `${FENCES}${HELD_BY}${REMAINING}
-- A re-run by the token that holds every key here: { the fence phase 2 recorded for it, 1 } if
-- it did (idempotence), else { a fresh proposal, 0 } (always safe, see quorum.store.ts).
local function proposal_for_holder(n)
  local recorded = fence_in(redis.call('GET', KEYS[1]))
  if recorded and recorded > 0 then return { recorded, 1 } end
  return { next_fence(n + 1, 2 * n, 1), 0 }
end
`;

/**
 * ARGV: token, ttl. Takes every key when none is held by another token and answers
 * { 0, a proposed fence (> 0), 1 if recorded for this token by phase 2 (a re-run) else 0 };
 * otherwise { 0, minus the blocking key's remaining lease (<= 0), 0 }, and takes nothing.
 */
export const QUORUM_ACQUIRE_SCRIPT = `${PROPOSALS}
local n = #KEYS / 2
local token, ttl = ARGV[1], ARGV[2]
if held_by(n, token) then
  local again = proposal_for_holder(n)
  return { 0, again[1], again[2] }
end
for i = 1, n do
  if redis.call('EXISTS', KEYS[i]) == 1 then return { 0, -remaining(i), 0 } end
end
local fence = next_fence(n + 1, 2 * n, 1)
for i = 1, n do
  redis.call('SET', KEYS[i], token .. ' 0', 'PX', ttl)
end
return { 0, fence, 0 }
`;

/**
 * ARGV: from token, to token, ttl, release id. When every key is the from token's or free, all pass to the
 * to token in one step (no moment in which they are free): { owned (1 if from held all), proposed
 * fence }. When another token holds one, the from token's keys are released and announced as by
 * RELEASE: { 0, minus the blocking lease's remaining ms }. A re-run answers { 1, its proposal }.
 */
export const QUORUM_HAND_OVER_SCRIPT = `${PROPOSALS}${GIVER}
local n = #KEYS / 2
local from, to, ttl, said = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if held_by(n, to) then
  local again = proposal_for_holder(n)
  return { 1, again[1], again[2] }
end
local owned, blocked = giver_state(n, from)
if blocked then
  let_go(n, from, said, 'PUBLISH')
  return { 0, -remaining(blocked), 0 }
end
local fence = next_fence(n + 1, 2 * n, 1)
for i = 1, n do
  redis.call('SET', KEYS[i], to .. ' 0', 'PX', ttl)
end
return { owned, fence, 0 }
`;

/**
 * ARGV: token, fence. Phase 2: only while the token still holds every key here, raises each
 * counter to the fence (never lowers it) and records the fence beside the token (the lease's
 * remaining time kept); answers 1, else 0.
 */
export const QUORUM_FENCE_SCRIPT = `${FENCES}${HELD_BY}
local n = #KEYS / 2
local token, fence = ARGV[1], tonumber(ARGV[2])
if not held_by(n, token) then return 0 end
raise_counters(n + 1, 2 * n, fence)
local value = token .. ' ' .. ARGV[2]
for i = 1, n do
  local left = redis.call('PTTL', KEYS[i])
  if left > 0 then redis.call('SET', KEYS[i], value, 'PX', left) end
end
return 1
`;
