import { WRITER_WAITING } from './lua-shared';

/**
 * The operator's scripts: who holds a key, and taking it from a stuck holder. One lock key per
 * call (KEYS[1]), so a Cluster runs each on the key's own node. A mutex's key is a string
 * `<token> <fence>` (see fence-scripts.ts); permits' and readers' a sorted set of members
 * `<kind>:<token>:<fence>` scored by their deadlines in server ms (see lua-shared.ts).
 */

/**
 * The key's holders: { token, fence (exact decimal), ms left, kind } each ('mutex' for a string,
 * the member's kind for each live permit or reader).
 */
const HOLDINGS = `
local function holdings(key)
  local stored_as = redis.call('TYPE', key).ok
  if stored_as == 'string' then
    local value = redis.call('GET', key)
    local space = string.find(value, ' ', 1, true)
    local left = math.max(0, redis.call('PTTL', key))
    if not space then return { { value, '0', left, 'mutex' } } end
    return { { string.sub(value, 1, space - 1), string.sub(value, space + 1), left, 'mutex' } }
  end
  if stored_as ~= 'zset' then return {} end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local found = {}
  local live = redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf', 'WITHSCORES')
  for i = 1, #live, 2 do
    local member = live[i]
    if member ~= '${WRITER_WAITING}' then
      local token_at = string.find(member, ':', 1, true) + 1
      local fence_at = #member
      while string.sub(member, fence_at, fence_at) ~= ':' do fence_at = fence_at - 1 end
      local token, fence = string.sub(member, token_at, fence_at - 1), string.sub(member, fence_at + 1)
      found[#found + 1] = { token, fence, tonumber(live[i + 1]) - now, string.sub(member, 1, token_at - 2) }
    end
  end
  return found
end
`;

/** Answers the key's holders (see HOLDINGS): none when it is free. */
export const INSPECT_SCRIPT = `${HOLDINGS}
return holdings(KEYS[1])
`;

/**
 * ARGV: publish command, release id. Deletes the key whatever holds it (a mutex, or every permit
 * or reader at once) and announces the release as RELEASE does; answers { token, fence } per
 * holder it freed (none when it was free). The slot's fence counter is not touched: the next
 * grant's fence is past it (or the clock's), above the freed ones.
 */
export const FORCE_RELEASE_SCRIPT = `${HOLDINGS}
local freed = holdings(KEYS[1])
if redis.call('DEL', KEYS[1]) == 1 then redis.call(ARGV[1], KEYS[1] .. ':released', ARGV[2]) end
return freed
`;
