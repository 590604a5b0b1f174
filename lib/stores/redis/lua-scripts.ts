import { CLOCK, NEXT_FENCE, TAKE } from './lua-fences';

/**
 * The atomic steps of the Redis store. Registered once with defineCommand, so the wire carries
 * EVALSHA. Key layout for a lock over n keys: KEYS[1..n] are the lock keys, KEYS[n+1..2n] their
 * fence counters (same hash slot as their lock key, see store-keys.ts; how fences are issued:
 * lua-fences.ts). A release is announced on the channel `<lock key>:released` (see store-keys.ts)
 * with the publish command the store passes as an ARGV (see pubsub-mode.ts): SPUBLISH on a
 * Redis 7 Cluster, where the channel shares its lock key's slot and the message stays on that
 * shard; PUBLISH elsewhere. One script text serves both. The message names the release ('' unless
 * the caller gave an id): a listener on several independent Redis (a quorum) hears one release
 * once, however many nodes announce it.
 */

/**
 * Idempotence: ioredis resends a command whose reply was lost with its connection, so a granting
 * script may run twice. A second run finds the keys already held by the token it grants to and
 * answers as the first run did, with the fence that run issued (read back from the counters).
 */
/** Whether `token` holds every one of the n lock keys. */
export const HELD_BY = `
local function held_by(n, token)
  for i = 1, n do
    if redis.call('GET', KEYS[i]) ~= token then return false end
  end
  return true
end
`;

const RERUN = `${HELD_BY}
local function issued_fence(n)
  local fence = 0
  for i = n + 1, 2 * n do
    local seen = tonumber(redis.call('GET', KEYS[i]))
    if not seen then return nil end
    if seen > fence then fence = seen end
  end
  return fence
end
`;

/**
 * ARGV: token, ttl, fence counter expiry. Returns the fence (>= 1) when every key was free and is
 * now ours (or already was this token's: a re-run); otherwise 0 or minus the busy key's remaining
 * lease in ms.
 */
export const ACQUIRE_SCRIPT = `${CLOCK}${NEXT_FENCE}${TAKE}${RERUN}
local n = #KEYS / 2
local token, ttl, keep = ARGV[1], ARGV[2], ARGV[3]
if n == 1 then
  -- One key, the common case: SET NX, INCR, PEXPIRE instead of a read of every key first.
  if redis.call('SET', KEYS[1], token, 'NX', 'PX', ttl) then
    return next_fence(KEYS[2], keep)
  end
  if redis.call('GET', KEYS[1]) == token then
    return issued_fence(1) or next_fence(KEYS[2], keep)
  end
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then left = 0 end
  return -left
end
if held_by(n, token) then return issued_fence(n) or take(n, token, ttl, keep) end
for i = 1, n do
  local left = redis.call('PTTL', KEYS[i])
  if left ~= -2 then
    if left < 0 then left = 0 end
    return -left
  end
end
return take(n, token, ttl, keep)
`;

/**
 * Shared by release and both hand-overs: `let_go` deletes and announces (with `publish`; '' announces
 * nothing) each of the n keys the token owns (the message names the release, '' if unnamed) and
 * counts them;
 * `giver_state` says whether the giver owns every key, and which key (if any) another owner holds.
 */
export const GIVER = `
local function let_go(n, token, said, publish)
  local owned = 0
  for i = 1, n do
    if redis.call('GET', KEYS[i]) == token then
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
    local holder = redis.call('GET', KEYS[i])
    if holder ~= from then
      owned = 0
      if holder and not blocked then blocked = i end
    end
  end
  return owned, blocked
end
`;

/**
 * ARGV: from token, to token, ttl, fence counter expiry, publish command, expected fence ('' for
 * a confirmed hand-over). Confirmed: when every key is owned by the from token or free, all are
 * taken for the to token: { owned (1 if the from token owned every key), fence }; when another
 * owner holds one of them, the from token's keys are released (and announced) as by RELEASE:
 * { 0, minus that key's remaining lease }. Optimistic (the receiver already runs, with the
 * expected fence plus one): it stands only if the from token still owns every key and no counter
 * has moved past the expected fence (a counter may have expired under a long lease); otherwise the
 * from token's keys are released and announced: { 0, 0 }. A re-run (every key already the to
 * token's) answers { 1, the fence issued }. A hand-over that took the keys adds a third value:
 * how many connections listen for their release (see `listeners`), so the giver's process learns
 * whether waiters elsewhere wait for its turn.
 */
export const HAND_OVER_SCRIPT = `${CLOCK}${TAKE}${RERUN}${GIVER}
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
local from, to, ttl, keep, publish, expected = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if held_by(n, to) then return { 1, issued_fence(n) or take(n, to, ttl, keep) } end
if expected ~= '' then
  local stands = held_by(n, from)
  for i = n + 1, 2 * n do
    local counter = redis.call('GET', KEYS[i])
    if counter and counter ~= expected then stands = false end
  end
  if not stands then
    -- The receiver ran with expected + 1: no later holder may be issued that fence again. A
    -- missing counter may have been lost above fences issued since: it is seeded from the clock.
    local burnt = tonumber(expected) + 1
    for i = n + 1, 2 * n do
      local counter = tonumber(redis.call('GET', KEYS[i]))
      local floor = counter and burnt or math.max(tonumber(clock_us()), burnt)
      if not counter or counter < floor then redis.call('SET', KEYS[i], string.format('%.0f', floor), 'PX', keep) end
    end
    let_go(n, from, '', publish)
    return { 0, 0 }
  end
  local fence = tonumber(expected) + 1
  local written = string.format('%.0f', fence)
  for i = 1, n do
    redis.call('SET', KEYS[i], to, 'PX', ttl)
    redis.call('SET', KEYS[n + i], written, 'PX', keep)
  end
  return { 1, fence, listeners(n, publish) }
end
local owned, blocked = giver_state(n, from)
if blocked then
  let_go(n, from, '', publish)
  local left = redis.call('PTTL', KEYS[blocked])
  if left < 0 then left = 0 end
  return { 0, -left }
end
return { owned, take(n, to, ttl, keep), listeners(n, publish) }
`;

/** ARGV: token, ttl. Resets the lease of every key to ttl only if the token owns all of them. */
export const EXTEND_SCRIPT = `
local token, ttl = ARGV[1], ARGV[2]
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) ~= token then return 0 end
end
for i = 1, #KEYS do
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return 1
`;

/**
 * ARGV: token, publish command ('' for none), optional release id. Deletes and announces each key
 * the token owns (the message is the release id, or ''); returns 1 if it owned all of them.
 */
export const RELEASE_SCRIPT = `${GIVER}
if let_go(#KEYS, ARGV[1], ARGV[3] or '', ARGV[2]) == #KEYS then return 1 end
return 0
`;
