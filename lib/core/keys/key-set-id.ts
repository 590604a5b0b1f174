/**
 * One id per set of store keys (a wait queue's). Each key is prefixed with its length, so no two
 * different sets share an id whatever characters their keys contain (a separator alone would let
 * the key `a}\nlock:{b` pose as the pair `a`, `b`).
 */
export function keySetId(storeKeys: readonly string[]): string {
  let id = '';
  for (const key of storeKeys) id += `${key.length}:${key}`;
  return id;
}
