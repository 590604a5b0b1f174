/**
 * The fence scheme, shared by the Redis store's and the quorum's scripts.
 *
 * One counter per hash slot (see fenceCounterOf in store-keys.ts), never expiring: at most 16,384
 * keys, none per lock key. It holds the fence of the slot's last grant, and with it a block of
 * `block` fences from there: [counter, counter + block - 1] are reserved. A grant's fence is past
 * the blocks of every counter of its keys and not below the server's clock in microseconds:
 * max(counter + block, clock). A counter restored from an old snapshot
 * (RDB, or an AOF that lost its last second) is behind fences already issued, but the clock is
 * past them, as long as it did not step back and the counters trail it (see README, Fences).
 *
 * The block is for optimistic hand-overs in the grant's process (whose receivers start with the
 * giver's fence plus one before Redis confirms): any other grant starts above the block, even when
 * the giver's key vanished under an optimistic receiver. The quorum, which confirms every grant
 * first, passes a block of 1.
 *
 * A lock key's value is `<token> <fence>`: whose lease it is, and the fence it was granted with
 * (a re-run of a grant answers with it; tools can read each holder's fence).
 *
 * Lua numbers are doubles: fences are exact below 2^53, and written with '%.0f'.
 */

/**
 * Reading a lock key's value: its holder, and its fence. A key held by permits or readers is a
 * sorted set (see lua-shared.ts): value_of reads it as SHARED, which is never a lease of a token.
 */
export const OWNERSHIP = `
local SHARED = '(shared)'
local function value_of(key)
  local value = redis.pcall('GET', key)
  if type(value) == 'table' then return SHARED end
  return value
end
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
-- The next fence over the counters KEYS[first..last]: past each one's block, not below the clock.
local function next_fence(first, last, block)
  local fence = clock_us()
  for i = first, last do
    local seen = tonumber(redis.call('GET', KEYS[i]))
    if seen and seen + block > fence then fence = seen + block end
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
