/**
 * The fence scheme, shared by the Redis store's and the quorum's scripts.
 *
 * One counter per hash slot (see fenceCounterOf in store-keys.ts), never expiring: at most 16,384
 * keys, none per lock key. A grant's fence is above every counter of its keys and not below the
 * server's clock in microseconds: max(counter + 1, clock). A counter restored from an old snapshot
 * (RDB, or an AOF that lost its last second) is behind fences already issued, but the clock is
 * past them, as long as it did not step back and the counters trail it (see README, Fencing).
 *
 * A grant reserves a block of `block` fences: its own, and the next ones for optimistic hand-overs
 * in its process (whose receivers start with the giver's fence plus one before Redis confirms), so
 * the counter is set to fence + block - 1 and any other grant starts above the block, even when
 * the giver's key vanished under an optimistic receiver.
 *
 * A lock key's value is `<token> <fence>`: whose lease it is, and the fence it was granted with
 * (a re-run of a grant answers with it; tools can read each holder's fence).
 *
 * Lua numbers are doubles: fences are exact below 2^53, and written with '%.0f'.
 */
/** Reading a lock key's value: its holder, and its fence. */
export const OWNERSHIP = `
-- Whether a lock key's value is a lease of token.
local function held_as(value, token)
  return value and string.sub(value, 1, #token + 1) == token .. ' '
end
local function fence_in(value)
  return tonumber(string.sub(value, string.find(value, ' ', 1, true) + 1))
end
`;

/** Clock, counters and exact decimals; includes OWNERSHIP. */
export const FENCES = `${OWNERSHIP}
local function clock_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function decimal(number)
  return string.format('%.0f', number)
end
-- The next fence over the counters KEYS[first..last]: above each of them, not below the clock.
local function next_fence(first, last)
  local fence = clock_us()
  for i = first, last do
    local seen = tonumber(redis.call('GET', KEYS[i]))
    if seen and seen >= fence then fence = seen + 1 end
  end
  return fence
end
-- Raises the counters KEYS[first..last] to at least upto.
local function raise_counters(first, last, upto)
  for i = first, last do
    local seen = tonumber(redis.call('GET', KEYS[i]))
    if not seen or seen < upto then redis.call('SET', KEYS[i], decimal(upto)) end
  end
end
`;
