import { PUBLISH_COMMAND, type PubSubModeDetector } from './pubsub-mode';
import { SCRIPTS, type ScriptName } from './script-commands';

type ScriptCall = (operation: string, script: ScriptName, keys: readonly string[], args: string[]) => Promise<unknown>;

/**
 * Undoes grants that may have landed unseen (a failed or late call, a store closing): queues a
 * compare-and-delete of `keys` per token, which only ever deletes what that token owns.
 */
export function undoGrants(call: ScriptCall, pubsub: PubSubModeDetector, keys: readonly string[], tokens: string[]) {
  // Queued at once, behind the grant. Before the mode is known (a Cluster's first acquire),
  // PUBLISH: it works on every server, and a wake-up it misses costs a waiter one poll.
  const publish = PUBLISH_COMMAND[pubsub.current ?? 'classic'];
  for (const token of tokens) call('release', SCRIPTS.release, keys, [token, publish]).catch(() => undefined);
}
