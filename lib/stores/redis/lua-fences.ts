/**
 * The fence scheme's Lua pieces, shared by the Redis store's scripts (lua-scripts.ts) and a
 * quorum's (quorum-scripts.ts). A lock key's fence counter is KEYS[n+i] for lock key KEYS[i].
 *
 * Fence counters expire (a while after the last lease on their key, see FENCE_RETENTION), so one
 * lock per order id does not leave a key behind forever. A missing counter (expired, or lost with
 * a restarted Redis' data) is seeded from the server's clock in microseconds, which is above every
 * fence issued before as long as that clock does not step back by more than the retention, and
 * fewer than one lease per microsecond was taken on the key. Needs Redis >= 5 (scripts replicated
 * by their effects, so a write may follow TIME). Fences stay below 2^53 (exact in
 * Lua's and JavaScript's doubles) until the year 2255.
 */

/** The Redis server's clock in microseconds, as an exact decimal string. */
export const CLOCK = `
local function clock_us()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2]))
end
`;

/**
 * The fence of one key's new lease: its counter plus one, or the clock when the counter is gone.
 * The counter's expiry moves out with every lease.
 */
export const NEXT_FENCE = `
local function next_fence(counter, keep)
  local fence = redis.call('INCR', counter)
  if fence == 1 then
    local seed = clock_us()
    redis.call('SET', counter, seed, 'PX', keep)
    return tonumber(seed)
  end
  redis.call('PEXPIRE', counter, keep)
  return fence
end
`;

/**
 * The next fence over the n keys whose counters are KEYS[n+1..2n]: one more than the highest
 * counter, or the clock when a counter is gone (whichever is higher). Needs CLOCK.
 */
export const FRESH_FENCE = `
local function fresh_fence(n)
  local fence = 0
  local missing = false
  for i = n + 1, 2 * n do
    local seen = redis.call('GET', KEYS[i])
    if seen then
      seen = tonumber(seen) or 0
      if seen + 1 > fence then fence = seen + 1 end
    else
      missing = true
    end
  end
  if missing then
    local now = tonumber(clock_us())
    if now > fence then fence = now end
  end
  return fence
end
`;

/**
 * Shared by acquire and hand-over: the fence is one more than the highest counter of the keys
 * (or the clock, if any counter is gone) and is written back to all of them, so it increases
 * strictly for every key.
 */
export const TAKE = `${FRESH_FENCE}
local function take(n, token, ttl, keep)
  local fence = fresh_fence(n)
  local written = string.format('%.0f', fence)
  for i = 1, n do
    redis.call('SET', KEYS[i], token, 'PX', ttl)
    redis.call('SET', KEYS[n + i], written, 'PX', keep)
  end
  return fence
end
`;
