import type { ForcedRelease, KeyHolding } from '../lock-store.interface';
import { toForced, toHoldings } from './operator-replies';
import { SCRIPTS, type ScriptName } from './script-commands';

type ScriptCall = (
  operation: string,
  script: ScriptName,
  keys: readonly string[],
  args: (string | number)[],
) => Promise<unknown>;

/** Each key's holders, one script per key (each on its own slot's node on a Cluster). */
export async function inspectKeys(call: ScriptCall, keys: readonly string[]): Promise<KeyHolding[]> {
  const ask = (key: string) => call('inspect', SCRIPTS.inspect, [key], []).then((reply) => toHoldings(key, reply));
  return (await Promise.all(keys.map(ask))).flat();
}

/** Frees each key whatever holds it, one script per key; what it freed, one entry per holder. */
export async function forceReleaseKeys(
  call: ScriptCall,
  keys: readonly string[],
  publish: string,
  releaseId: string,
): Promise<ForcedRelease[]> {
  const free = (key: string) =>
    call('forceRelease', SCRIPTS.forceRelease, [key], [publish, releaseId]).then((reply) => toForced(key, reply));
  return (await Promise.all(keys.map(free))).flat();
}
