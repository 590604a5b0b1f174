/**
 * The operator's scripts: who holds a key, and taking it from a stuck holder. One lock key per
 * call (KEYS[1] the lock key, KEYS[2] its fence counter, one hash slot), so a Cluster runs each
 * on the key's own node.
 */

/** Answers nil when the key is free, else { token, fence counter (exact decimal), ms left }. */
export const INSPECT_SCRIPT = `
local token = redis.call('GET', KEYS[1])
if not token then return false end
return { token, redis.call('GET', KEYS[2]) or '0', redis.call('PTTL', KEYS[1]) }
`;

/**
 * ARGV: publish command, release id. Deletes the key whoever holds it and announces the release
 * as RELEASE does; answers nil when it was free, else { token, fence counter }. The counter stays,
 * so the next lease's fence is above the freed one (or the clock's, if the counter is gone).
 */
export const FORCE_RELEASE_SCRIPT = `
local token = redis.call('GET', KEYS[1])
if not token then return false end
redis.call('DEL', KEYS[1])
redis.call(ARGV[1], KEYS[1] .. ':released', ARGV[2])
return { token, redis.call('GET', KEYS[2]) or '0' }
`;
