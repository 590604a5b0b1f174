import type { ForcedRelease, KeyHolding } from '../lock-store.interface';

type HolderReply = [string, string, number?];

/** INSPECT_SCRIPT's reply for `key` (see operator-scripts.ts): one holding per holder. */
export function toHoldings(key: string, reply: unknown): KeyHolding[] {
  return holders(reply).map(([token, fence, left]) => ({
    key,
    token: String(token),
    fence: Number(fence),
    expiresIn: Math.max(0, Number(left)),
  }));
}

/** FORCE_RELEASE_SCRIPT's reply for `key`: one entry per holder it freed. */
export function toForced(key: string, reply: unknown): ForcedRelease[] {
  return holders(reply).map(([token, fence]) => ({ key, token: String(token), fence: Number(fence) }));
}

function holders(reply: unknown): HolderReply[] {
  return Array.isArray(reply) ? (reply as HolderReply[]) : [];
}
