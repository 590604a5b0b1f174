import { FENCES, OWNERSHIP } from './fence-scripts';
import { WRITER_MEETS_SHARES } from './lua-shared';

/**
 * The atomic steps of the Redis store. Registered once with defineCommand, so the wire carries
 * EVALSHA. Key layout for a lock over n keys: KEYS[1..n] are the lock keys, KEYS[n+1..2n] the fence
 * counters of their hash slots (see fence-scripts.ts and store-keys.ts). A lock key's value is
 * `<token> <fence>`. A release is announced on the channel `<lock key>:released` (see
 * store-keys.ts) with the publish command the store passes as an ARGV (see pubsub-mode.ts):
 * SPUBLISH on a Redis 7 Cluster, where the channel shares its lock key's slot and the message stays
 * on that shard; PUBLISH elsewhere. One script text serves both. The message names the release (''
 * unless the caller gave an id): a listener on several independent Redis (a quorum) hears one
 * release once, however many nodes announce it.
 *
 * Needs Redis >= 5 (scripts replicated by their effects, so a write may follow TIME).
 */

/**
 * Idempotence: ioredis resends a command whose reply was lost with its connection, so a granting
 * script may run twice. A second run finds the keys already held by the token it grants to and
 * answers as the first run did, with the fence written beside the token.
 */
/** Whether `token` holds every one of the n lock keys. Needs OWNERSHIP. */
export const HELD_BY = `
local function held_by(n, token)
  for i = 1, n do
    if not held_as(value_of(KEYS[i]), token) then return false end
  end
  return true
end
`;

/** The remaining lease of KEYS[i] in ms (0 when it has none). */
export const REMAINING = `
local function remaining(i)
  local left = redis.call('PTTL', KEYS[i])
  if left < 0 then left = 0 end
  return left
end
`;

/**
 * Shared by acquire and confirmed hand-overs: takes the n keys for `token` with a fresh fence
 * (past every counter's block, not below the clock), written to the counters: a new block.
 */
const TAKE = `${HELD_BY}${REMAINING}
local function take(n, token, ttl, block)
  local fence = next_fence(n + 1, 2 * n, block)
  local written = decimal(fence)
  local value = token .. ' ' .. written
  for i = 1, n do
    redis.call('SET', KEYS[i], value, 'PX', ttl)
    redis.call('SET', KEYS[n + i], written)
  end
  return fence
end
`;

/**
 * ARGV: token, ttl, fences reserved per grant, how long (ms) a writer's mark holds back readers.
 * Returns the fence (>= 1) when every key was free and is now ours (or already was this token's:
 * a re-run); otherwise 0 or minus the busy key's remaining lease in ms. A single key held by
 * permits or readers is marked as wanted by a writer (see lua-shared.ts), taken once none is left.
 */
export const ACQUIRE_SCRIPT = `
local n = #KEYS / 2
local token, ttl, block, mark = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if n == 1 then
  -- One key, the common case, first and written out (no helper is defined on this path): SET NX
  -- with the clock as the fence, then one GETSET of the counter, whose block ends before the clock
  -- unless grants in this slot outrun it (then the fence is redone past that block).
  local t = redis.call('TIME')
  local clock = t[1] .. string.sub('00000' .. t[2], -6)
  if redis.call('SET', KEYS[1], token .. ' ' .. clock, 'NX', 'PX', ttl) then
    local seen = tonumber(redis.call('GETSET', KEYS[2], clock))
    local now = tonumber(clock)
    if not seen or seen + block <= now then return now end
    local fence = string.format('%.0f', seen + block)
    redis.call('SET', KEYS[2], fence)
    redis.call('SET', KEYS[1], token .. ' ' .. fence, 'PX', ttl)
    return tonumber(fence)
  end
  -- A pcall: a key held by permits or readers (a sorted set) is for the path below.
  local holder = redis.pcall('GET', KEYS[1])
  if type(holder) ~= 'table' then
    if holder and string.sub(holder, 1, #token + 1) == token .. ' ' then
      return tonumber(string.sub(holder, #token + 2))
    end
    local left = redis.call('PTTL', KEYS[1])
    if left < 0 then left = 0 end
    return -left
  end
end
${FENCES}${TAKE}${WRITER_MEETS_SHARES}
if held_by(n, token) then return fence_in(redis.call('GET', KEYS[1])) end
if n == 1 and value_of(KEYS[1]) == SHARED then
  -- Taken once no share is left (the key is then deleted); until then, marked for this writer.
  local verdict = writer_meets_shares(KEYS[1], tonumber(mark))
  if verdict ~= true then return verdict end
end
for i = 1, n do
  local left = redis.call('PTTL', KEYS[i])
  if left ~= -2 then return -math.max(left, 0) end
end
return take(n, token, ttl, block)
`;

/**
 * Shared by release and both hand-overs: `let_go` deletes and announces (with `publish`; '' announces
 * nothing) each of the n keys the token owns (the message names the release, '' if unnamed) and
 * counts them;
 * `giver_state` says whether the giver owns every key, and which key (if any) another owner holds.
 * Needs OWNERSHIP.
 */
export const GIVER = `
local function let_go(n, token, said, publish)
  local owned = 0
  for i = 1, n do
    if held_as(value_of(KEYS[i]), token) then
      redis.call('DEL', KEYS[i])
      if publish ~= '' then redis.call(publish, KEYS[i] .. ':released', said) end
      owned = owned + 1
    end
  end
  return owned
end
local function giver_state(n, from)
  local owned = 1
  local blocked = nil
  for i = 1, n do
    local holder = value_of(KEYS[i])
    if not held_as(holder, from) then
      owned = 0
      if holder and not blocked then blocked = i end
    end
  end
  return owned, blocked
end
`;

/**
 * ARGV: from token, to token, ttl, fences reserved per grant, publish command, expected fence (''
 * for a confirmed hand-over). Confirmed: when every key is owned by the from token or free, all
 * are taken for the to token with a fresh fence: { owned (1 if the from token owned every key),
 * fence }; when another owner holds one of them, the from token's keys are released (and
 * announced) as by RELEASE: { 0, minus that key's remaining lease }. Optimistic (the receiver
 * already runs, with the expected fence plus one, spent from its giver's reserved block): it stands
 * only if the from token still holds every key with the expected fence and every counter's block
 * covers the receiver's fence; otherwise the counters are raised so that no later grant gets that
 * fence, and the from token's keys released
 * and announced: { 0, 0 }. A re-run (every key already the to token's) answers { 1, its fence }. A
 * hand-over that took the keys adds a third value: how many connections listen for their release
 * (see `listeners`), so the giver's process learns whether waiters elsewhere wait for its turn.
 */
export const HAND_OVER_SCRIPT = `${FENCES}${TAKE}${GIVER}
-- Connections listening for a release of any of the keys (the most on one key's channel): a
-- process with waiters listens with one. The hand-over's own process is one of them.
local function listeners(n, publish)
  local most = 0
  local command = publish == 'spublish' and 'SHARDNUMSUB' or 'NUMSUB'
  for i = 1, n do
    local count = redis.call('PUBSUB', command, KEYS[i] .. ':released')[2]
    if count > most then most = count end
  end
  return most
end
local n = #KEYS / 2
local from, to, ttl, block, publish, expected = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
if held_by(n, to) then return { 1, fence_in(redis.call('GET', KEYS[1])) } end
if expected ~= '' then
  local given = tonumber(expected) + 1
  local giver = from .. ' ' .. expected
  local stands = true
  for i = 1, n do
    if value_of(KEYS[i]) ~= giver then stands = false end
    local counter = tonumber(redis.call('GET', KEYS[n + i]))
    if not counter or counter + block <= given then stands = false end
  end
  if not stands then
    -- The receiver ran with this fence: no later holder may be issued it again.
    raise_counters(n + 1, 2 * n, given + 1 - block)
    let_go(n, from, '', publish)
    return { 0, 0 }
  end
  local value = to .. ' ' .. decimal(given)
  for i = 1, n do
    redis.call('SET', KEYS[i], value, 'PX', ttl)
  end
  return { 1, given, listeners(n, publish) }
end
local owned, blocked = giver_state(n, from)
if blocked then
  let_go(n, from, '', publish)
  return { 0, -remaining(blocked) }
end
return { owned, take(n, to, ttl, block), listeners(n, publish) }
`;

/** ARGV: token, ttl. Resets the lease of every key to ttl only if the token owns all of them. */
export const EXTEND_SCRIPT = `${OWNERSHIP}
local token, ttl = ARGV[1], ARGV[2]
for i = 1, #KEYS do
  if not held_as(value_of(KEYS[i]), token) then return 0 end
end
for i = 1, #KEYS do
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return 1
`;

/**
 * ARGV: token, publish command ('' for none: a quorum takes back a refused grant unannounced),
 * optional release id. Deletes and announces each key the token owns (the message is the release
 * id, or ''); returns 1 if it owned all of them.
 */
export const RELEASE_SCRIPT = `
if #KEYS == 1 then
  -- One key, the common case, written out.
  local value = redis.pcall('GET', KEYS[1]) -- a sorted set (permits, readers) is nobody's lease
  if type(value) ~= 'string' or string.sub(value, 1, #ARGV[1] + 1) ~= ARGV[1] .. ' ' then return 0 end
  redis.call('DEL', KEYS[1])
  if ARGV[2] ~= '' then redis.call(ARGV[2], KEYS[1] .. ':released', ARGV[3] or '') end
  return 1
end
${OWNERSHIP}${GIVER}
if let_go(#KEYS, ARGV[1], ARGV[3] or '', ARGV[2]) == #KEYS then return 1 end
return 0
`;
