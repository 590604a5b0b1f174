import type { ForcedRelease, KeyHolding, LockKind } from '../lock-store.interface';

/** One holder in an operator script's reply: token, fence (exact decimal), ms left, kind. */
type HolderReply = [string, string, number, string];

/** INSPECT_SCRIPT's reply for `key` (see operator-scripts.ts): one holding per holder, none when free. */
export function toHoldings(key: string, reply: unknown): KeyHolding[] {
  return holders(reply).map(([token, fence, left, kind]) => ({
    key,
    token: String(token),
    kind: String(kind) as LockKind,
    fence: Number(fence),
    expiresIn: Math.max(0, Number(left)),
  }));
}

/** FORCE_RELEASE_SCRIPT's reply for `key`: one entry per holder it freed, none when it was free. */
export function toForced(key: string, reply: unknown): ForcedRelease[] {
  return holders(reply).map(([token, fence]) => ({ key, token: String(token), fence: Number(fence) }));
}

/** INSPECT_SCRIPT run per key with `ask`: the holders of the keys, in key order. */
export async function inspectKeys(
  ask: (key: string) => Promise<unknown>,
  keys: readonly string[],
): Promise<KeyHolding[]> {
  return (await Promise.all(keys.map((key) => ask(key).then((reply) => toHoldings(key, reply))))).flat();
}

/** FORCE_RELEASE_SCRIPT run per key with `free`: the holders it freed, in key order. */
export async function forceReleaseKeys(
  free: (key: string) => Promise<unknown>,
  keys: readonly string[],
): Promise<ForcedRelease[]> {
  return (await Promise.all(keys.map((key) => free(key).then((reply) => toForced(key, reply))))).flat();
}

function holders(reply: unknown): HolderReply[] {
  return Array.isArray(reply) ? (reply as HolderReply[]) : [];
}
