import { CLOCK, FRESH_FENCE } from '../redis/lua-fences';
import { GIVER, HELD_BY } from '../redis/lua-scripts';

/**
 * The per-node steps of the quorum (Redlock) store. A grant takes two: the node takes the keys
 * and proposes a fence (phase 1, QUORUM_ACQUIRE or QUORUM_HAND_OVER); once a majority took them,
 * the highest proposal F is written back to the nodes that took them (phase 2, QUORUM_FENCE),
 * and a majority must confirm before the lock is granted. Any later majority shares a node with
 * that one, so it proposes more than F (see fence-proof in quorum.store.ts).
 *
 * Key layout for a lock over n keys: KEYS[1..n] the lock keys, KEYS[n+1..2n] their fence counters,
 * KEYS[2n+1..3n] their grant records (`<token> <fence>`: the fence phase 2 last wrote here, and
 * for whom), see store-keys.ts.
 */

/**
 * Proposals: a fresh one is fresh_fence (see lua-scripts.ts: one more than the highest counter,
 * or the server's clock in microseconds when a counter is missing, as on one Redis).
 */
const PROPOSALS = `${FRESH_FENCE}
-- A re-run by the token that holds every key here: { the fence phase 2 recorded for it, 1 } if
-- it did (idempotence), else { a fresh proposal, 0 } (always safe, see quorum.store.ts).
local function proposal_for_holder(n, token)
  local fence = 0
  for i = 2 * n + 1, 3 * n do
    local record = redis.call('GET', KEYS[i])
    local space = record and string.find(record, ' ', 1, true)
    if not space or string.sub(record, 1, space - 1) ~= token then return { fresh_fence(n), 0 } end
    local granted = tonumber(string.sub(record, space + 1))
    if granted > fence then fence = granted end
  end
  return { fence, 1 }
end
local function left_of(i)
  local left = redis.call('PTTL', KEYS[i])
  if left < 0 then left = 0 end
  return left
end
`;

/**
 * ARGV: token, ttl. Takes every key when none is held by another token and answers
 * { 0, a proposed fence (> 0), 1 if recorded for this token by phase 2 (a re-run) else 0 };
 * otherwise { 0, minus the blocking key's remaining lease (<= 0), 0 }, and takes nothing.
 */
export const QUORUM_ACQUIRE_SCRIPT = `${CLOCK}${HELD_BY}${PROPOSALS}
local n = #KEYS / 3
local token, ttl = ARGV[1], ARGV[2]
if held_by(n, token) then
  local again = proposal_for_holder(n, token)
  return { 0, again[1], again[2] }
end
for i = 1, n do
  local holder = redis.call('GET', KEYS[i])
  if holder and holder ~= token then return { 0, -left_of(i), 0 } end
end
local fence = fresh_fence(n)
for i = 1, n do
  redis.call('SET', KEYS[i], token, 'PX', ttl)
end
return { 0, fence, 0 }
`;

/**
 * ARGV: from token, to token, ttl, release id. When every key is the from token's or free, all pass to the
 * to token in one step (no moment in which they are free): { owned (1 if from held all), proposed
 * fence }. When another token holds one, the from token's keys are released and announced as by
 * RELEASE: { 0, minus the blocking lease's remaining ms }. A re-run answers { 1, its proposal }.
 */
export const QUORUM_HAND_OVER_SCRIPT = `${CLOCK}${HELD_BY}${GIVER}${PROPOSALS}
local n = #KEYS / 3
local from, to, ttl, said = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if held_by(n, to) then
  local again = proposal_for_holder(n, to)
  return { 1, again[1], again[2] }
end
local owned, blocked = giver_state(n, from)
if blocked then
  let_go(n, from, said, 'PUBLISH')
  return { 0, -left_of(blocked), 0 }
end
local fence = fresh_fence(n)
for i = 1, n do
  redis.call('SET', KEYS[i], to, 'PX', ttl)
end
return { owned, fence, 0 }
`;

/**
 * ARGV: token, fence, counter expiry. Phase 2: only while the token still holds every key here,
 * raises each counter to the fence (never lowers it) and records the grant; answers 1, else 0.
 */
export const QUORUM_FENCE_SCRIPT = `${HELD_BY}
local n = #KEYS / 3
local token, fence, keep = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if not held_by(n, token) then return 0 end
for i = 1, n do
  local seen = tonumber(redis.call('GET', KEYS[n + i])) or 0
  if seen < fence then seen = fence end
  redis.call('SET', KEYS[n + i], string.format('%.0f', seen), 'PX', keep)
  redis.call('SET', KEYS[2 * n + i], token .. ' ' .. ARGV[2], 'PX', keep)
end
return 1
`;
