import type { ForcedRelease, KeyHolding } from '../lock-store.interface';

/** INSPECT_SCRIPT's reply for `key` (see operator-scripts.ts), or undefined when it is free. */
export function toHolding(key: string, reply: unknown): KeyHolding | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [token, fence, left] = reply as [string, string, number];
  return { key, token: String(token), fence: Number(fence), expiresIn: Math.max(0, Number(left)) };
}

/** FORCE_RELEASE_SCRIPT's reply for `key`, or undefined when it was free. */
export function toForced(key: string, reply: unknown): ForcedRelease | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [token, fence] = reply as [string, string];
  return { key, token: String(token), fence: Number(fence) };
}

/** The defined entries, in order. */
export function present<T>(values: readonly (T | undefined)[]): T[] {
  return values.filter((value): value is T => value !== undefined);
}
