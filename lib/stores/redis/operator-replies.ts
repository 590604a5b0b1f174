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

/** INSPECT_SCRIPT run per key with `ask`: the keys that are held, in order. */
export async function inspectKeys(
  ask: (key: string) => Promise<unknown>,
  keys: readonly string[],
): Promise<KeyHolding[]> {
  return present(await Promise.all(keys.map((key) => ask(key).then((reply) => toHolding(key, reply)))));
}

/** FORCE_RELEASE_SCRIPT run per key with `free`: the keys it freed, in order. */
export async function forceReleaseKeys(
  free: (key: string) => Promise<unknown>,
  keys: readonly string[],
): Promise<ForcedRelease[]> {
  return present(await Promise.all(keys.map((key) => free(key).then((reply) => toForced(key, reply)))));
}
