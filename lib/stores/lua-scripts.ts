/**
 * The atomic steps of the Redis store. Registered once with defineCommand, so the wire carries
 * EVALSHA. Key layout for a lock over n keys: KEYS[1..n] are the lock keys, KEYS[n+1..2n] their
 * fence counters (same hash slot as their lock key, see store-keys.ts).
 */

/**
 * ARGV: token, ttl. Returns the fence (>= 1) when every key was free and is now ours; otherwise
 * 0 or minus the busy key's remaining lease in ms. The fence is one more than the highest counter
 * of the keys and is written back to all of them, so it increases strictly for every key.
 */
export const ACQUIRE_SCRIPT = `
local n = #KEYS / 2
for i = 1, n do
  local left = redis.call('PTTL', KEYS[i])
  if left ~= -2 then
    if left < 0 then left = 0 end
    return -left
  end
end
local fence = 0
for i = n + 1, 2 * n do
  local seen = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if seen + 1 > fence then fence = seen + 1 end
end
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
  redis.call('SET', KEYS[n + i], fence)
end
return fence
`;

/** ARGV: token, ttl. Resets the lease of every key to ttl only if the token owns all of them. */
export const EXTEND_SCRIPT = `
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) ~= ARGV[1] then return 0 end
end
for i = 1, #KEYS do
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return 1
`;

/** ARGV: token. Deletes each key the token owns; returns 1 if it owned all of them. */
export const RELEASE_SCRIPT = `
local owned = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    owned = owned + 1
  end
end
if owned == #KEYS then return 1 end
return 0
`;
