/**
 * The operator's scripts: who holds a key, and taking it from a stuck holder. One lock key per
 * call (KEYS[1]), so a Cluster runs each on the key's own node. A lock key's value is
 * `<token> <fence>` (see fence-scripts.ts).
 */

/** Splits a lock key's value into { token, fence (exact decimal) }. */
const HOLDER = `
local function holder_of(value)
  local space = string.find(value, ' ', 1, true)
  if not space then return value, '0' end
  return string.sub(value, 1, space - 1), string.sub(value, space + 1)
end
`;

/** Answers nil when the key is free, else { token, fence, ms left }. */
export const INSPECT_SCRIPT = `${HOLDER}
local value = redis.call('GET', KEYS[1])
if not value then return false end
local token, fence = holder_of(value)
return { token, fence, redis.call('PTTL', KEYS[1]) }
`;

/**
 * ARGV: publish command, release id. Deletes the key whoever holds it and announces the release
 * as RELEASE does; answers nil when it was free, else { token, fence }. The slot's fence counter
 * is not touched: the next grant's fence is past it (or the clock's), above the freed one.
 */
export const FORCE_RELEASE_SCRIPT = `${HOLDER}
local value = redis.call('GET', KEYS[1])
if not value then return false end
redis.call('DEL', KEYS[1])
redis.call(ARGV[1], KEYS[1] .. ':released', ARGV[2])
local token, fence = holder_of(value)
return { token, fence }
`;
