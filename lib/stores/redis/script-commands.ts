import { createHash } from 'node:crypto';
import type { RedisConnection } from './create-redis-client';
import { ACQUIRE_SCRIPT, EXTEND_SCRIPT, HAND_OVER_SCRIPT, RELEASE_SCRIPT } from './lua-scripts';
import {
  SHARED_ACQUIRE_SCRIPT,
  SHARED_EXTEND_SCRIPT,
  SHARED_HAND_OVER_SCRIPT,
  SHARED_RELEASE_SCRIPT,
} from './lua-shared';
import { FORCE_RELEASE_SCRIPT, INSPECT_SCRIPT } from './operator-scripts';
import { QUORUM_ACQUIRE_SCRIPT, QUORUM_FENCE_SCRIPT, QUORUM_HAND_OVER_SCRIPT } from '../quorum/quorum-scripts';

/** Every script, by the operation it performs. */
const SOURCES = {
  acquire: ACQUIRE_SCRIPT,
  extend: EXTEND_SCRIPT,
  release: RELEASE_SCRIPT,
  handOver: HAND_OVER_SCRIPT,
  // Permits and readers: shares of one key (see lua-shared.ts).
  sharedAcquire: SHARED_ACQUIRE_SCRIPT,
  sharedExtend: SHARED_EXTEND_SCRIPT,
  sharedRelease: SHARED_RELEASE_SCRIPT,
  sharedHandOver: SHARED_HAND_OVER_SCRIPT,
  // An operator's (see operator-scripts.ts).
  inspect: INSPECT_SCRIPT,
  forceRelease: FORCE_RELEASE_SCRIPT,
  // A quorum's nodes: the two phases of a grant (see quorum/quorum-scripts.ts).
  quorumAcquire: QUORUM_ACQUIRE_SCRIPT,
  quorumHandOver: QUORUM_HAND_OVER_SCRIPT,
  quorumFence: QUORUM_FENCE_SCRIPT,
} as const;

/**
 * The command name each script is added to a client under. It carries a hash of the script's
 * text, so a changed script never meets a definition of its old text on a shared client.
 */
export const SCRIPTS = Object.fromEntries(
  Object.entries(SOURCES).map(([operation, lua]) => [
    operation,
    `nestRedisLock_${operation}_${createHash('sha1').update(lua).digest('hex').slice(0, 10)}`,
  ]),
) as { readonly [operation in keyof typeof SOURCES]: string };

export type ScriptName = (typeof SCRIPTS)[keyof typeof SCRIPTS];

/** Adds every script to `client` (once per client: a user's client may serve several stores). */
export function defineScripts(client: RedisConnection): void {
  const commands = client as unknown as Record<string, unknown>;
  for (const [operation, name] of Object.entries(SCRIPTS)) {
    if (typeof commands[name] !== 'function') {
      client.defineCommand(name, { lua: SOURCES[operation as keyof typeof SOURCES] });
    }
  }
}
