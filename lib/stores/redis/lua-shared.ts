import { FENCES } from './fence-scripts';

/**
 * The atomic steps of permits (a counting lock) and readers (a read-write lock) in the Redis store.
 * Both are shares of one key: KEYS[1] is a sorted set of its holders, each a member
 * `<kind>:<token>:<fence>` scored by its lease's deadline in the server's milliseconds (so a
 * crashed holder's share ends after its ttl: every step prunes shares past their deadline, by the
 * server's TIME); KEYS[2] is its hash slot's fence counter, shared with the mutex (one `next_fence`,
 * fence-scripts.ts), so every share's fence is above every earlier holder's of any kind. A share
 * reserves no block beyond its own fence: it is never handed over optimistically. A writer (a
 * mutex) waiting for readers adds the member WRITER_WAITING, scored by when its mark ends: later
 * readers wait behind it. The set's own expiry is its last deadline. A mutex holds the key as a
 * string (lua-scripts.ts), which no share step touches.
 */

/** The member a waiting writer marks a shared key with (never a share: it has no token). */
export const WRITER_WAITING = 'write:waiting';

/** Shared by the share steps: the server's clock in ms, pruning, finding one holder's member. */
export const SHARES = `
local WRITER_WAITING = '${WRITER_WAITING}'
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Drops shares (and a writer's mark) whose deadline passed; the key is gone once none is left.
local function prune(key, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
end
-- The member of the share '<kind>:<token>:', or nil.
local function share_of(key, prefix)
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    if string.sub(member, 1, #prefix) == prefix then return member end
  end
  return nil
end
-- The live share '<kind>:<token>:' of a key held as shares (pruned first), or nil.
local function live_share(key, kind, token, now)
  if redis.call('TYPE', key).ok ~= 'zset' then return nil end
  prune(key, now)
  return share_of(key, kind .. ':' .. token .. ':')
end
-- The key lives as long as its longest share.
local function keep_alive(key, now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIRE', key, math.max(1, tonumber(last[2]) - now)) end
end
`;

/**
 * Takes a share for `token` if it may, on a key not held by a mutex (pruned): the fence (>= 1),
 * or the fence it was issued (a re-run); otherwise 0 or minus the time (ms) until the blocking
 * holder's lease ends: the earliest share when the limit is reached, or a waiting writer's mark
 * (readers only).
 */
const ADMIT = `${FENCES}
-- Past every earlier grant's block (a mutex grant leaves the counter, KEYS[2], at the first of
-- its block fences); the counter is left so that the next grant's fence comes right after this one.
local function share_fence(block)
  local fence = next_fence(2, 2, block)
  raise_counters(2, 2, fence - block + 1)
  return fence
end
local function admit(key, token, ttl, block, kind, limit, now)
  local prefix = kind .. ':' .. token .. ':'
  local mine = share_of(key, prefix)
  if mine then return tonumber(string.sub(mine, #prefix + 1)) end
  local mark = redis.call('ZSCORE', key, WRITER_WAITING)
  if kind == 'read' and mark then return -(tonumber(mark) - now) end
  local holders = redis.call('ZCARD', key)
  if mark then holders = holders - 1 end
  if limit > 0 and holders >= limit then
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[1] == WRITER_WAITING then first = redis.call('ZRANGE', key, 1, 1, 'WITHSCORES') end
    return -math.max(0, tonumber(first[2]) - now)
  end
  local fence = share_fence(block)
  redis.call('ZADD', key, now + ttl, prefix .. decimal(fence))
  keep_alive(key, now)
  return fence
end
`;

/** Minus a mutex holder's lease left (0 if unknown), or nil when no mutex holds the key (shares pruned). */
const MUTEX_BLOCKS = `
local function mutex_blocks(key, now)
  local stored_as = redis.call('TYPE', key).ok
  if stored_as == 'zset' then prune(key, now) end
  if stored_as ~= 'string' then return nil end
  local left = redis.call('PTTL', key)
  if left < 0 then left = 0 end
  return -left
end
`;

/**
 * ARGV: token, ttl, the mutex's fences per grant, kind ('permit' or 'read'), limit (permits; 0 for none).
 * Returns the fence (>= 1) when the share was taken (or already was this token's: a re-run, which
 * answers the fence it issued); otherwise 0 or minus the time (ms) until the blocking holder's
 * lease ends (a mutex's, or see ADMIT).
 */
export const SHARED_ACQUIRE_SCRIPT = `${SHARES}${ADMIT}${MUTEX_BLOCKS}
local key = KEYS[1]
local now = now_ms()
local blocked = mutex_blocks(key, now)
if blocked then return blocked end
return admit(key, ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), now)
`;

/**
 * ARGV: from token, to token, ttl, the mutex's fences per grant, kind, limit (0 for none), publish command.
 * Lets go of the from token's share and takes one for the to token as SHARED_ACQUIRE would, in
 * one step: { owned (1 if the from share was live), fence }. When the to token may not have one,
 * the release is announced and the answer is { owned, 0 or minus the blocking lease's time left }.
 * A re-run (the to token already has its share) answers { 1, the fence it was issued }.
 */
export const SHARED_HAND_OVER_SCRIPT = `${SHARES}${ADMIT}${MUTEX_BLOCKS}
local key = KEYS[1]
local from, to, ttl, block, kind, limit, publish = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), ARGV[7]
local now = now_ms()
local blocked = mutex_blocks(key, now)
if blocked then return { 0, blocked } end
local issued = share_of(key, kind .. ':' .. to .. ':')
if issued then return { 1, admit(key, to, ttl, block, kind, limit, now) } end
local given = share_of(key, kind .. ':' .. from .. ':')
if given then redis.call('ZREM', key, given) end
local fence = admit(key, to, ttl, block, kind, limit, now)
if fence <= 0 and given and publish ~= '' then redis.call(publish, key .. ':released', '') end
return { given and 1 or 0, fence }
`;

/** ARGV: token, ttl, kind. Resets the share's deadline to now + ttl if it is still live: 1, else 0. */
export const SHARED_EXTEND_SCRIPT = `${SHARES}
local key = KEYS[1]
local now = now_ms()
local mine = live_share(key, ARGV[3], ARGV[1], now)
if not mine then return 0 end
redis.call('ZADD', key, now + tonumber(ARGV[2]), mine)
keep_alive(key, now)
return 1
`;

/**
 * ARGV: token, publish command ('' for none), release id, kind. Removes the share and announces
 * the release on the key's channel as a mutex release does: 1 if the share was still live, else 0.
 */
export const SHARED_RELEASE_SCRIPT = `${SHARES}
local key = KEYS[1]
local now = now_ms()
local mine = live_share(key, ARGV[4], ARGV[1], now)
if not mine then return 0 end
redis.call('ZREM', key, mine)
if ARGV[2] ~= '' then redis.call(ARGV[2], key .. ':released', ARGV[3]) end
return 1
`;

/**
 * For the mutex's acquire (lua-scripts.ts), on a key held as shares: prunes them; when none is
 * left (a writer's mark aside) the key is the mutex's to take (true); otherwise marks it as
 * wanted by a writer until `mark_ms` from now, and answers minus the earliest share's time left.
 */
export const WRITER_MEETS_SHARES = `${SHARES}
local function writer_meets_shares(key, mark_ms)
  local now = now_ms()
  prune(key, now)
  local first = redis.call('ZRANGE', key, 0, 1, 'WITHSCORES')
  if first[1] == WRITER_WAITING then first = { first[3], first[4] } end
  if not first[1] then
    redis.call('DEL', key)
    return true
  end
  redis.call('ZADD', key, now + mark_ms, WRITER_WAITING)
  keep_alive(key, now)
  return -math.max(0, tonumber(first[2]) - now)
end
`;
