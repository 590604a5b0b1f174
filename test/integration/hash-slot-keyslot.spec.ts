import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSlot } from '../../lib/core/keys/hash-slot';
import { RedisServer } from '../support/redis-server';

/** Keys where the tag's range and UTF-8 matter: empty, nested, trailing and non-ASCII tags. */
const EDGE_KEYS = [
  ...['', '{', '}', '{}', '{}a', 'a{}', 'a{}b', 'a{', 'a}', '}{', '}{a}', '{a', 'a{b', '{{}}', '{{a}}', '{a}{b}'],
  ...['foo{}{bar}', 'foo{{bar}}', 'foo{bar}{zap}', '{user1000}.following', 'abc{d}', '{d}abc', 'é', '{é}x', 'x{é}'],
  ...['x{é', 'é{a}', '{aé}z', '日本{語}', '{日本}語', '😀{x}', '{😀}', 'x{😀', 'lock:{ключ}', '\u007f{\u0080}', 'é{}b'],
];

/** A fixed-seed generator of short keys over braces, ASCII and multi-byte characters. */
function keys(count: number): string[] {
  const alphabet = ['a', 'b', '{', '}', 'é', '日', '😀', ':', '\u0080', '\u07ff', '\u0800', 'Z'];
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  return Array.from({ length: count }, () =>
    Array.from({ length: Math.floor(next() * 10) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''),
  );
}

describe('hashSlot against a Redis Cluster node', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start(['--cluster-enabled', 'yes']);
  });
  afterAll(async () => server?.stop());

  it('gives the slot CLUSTER KEYSLOT gives, for edge keys and 2,000 generated ones', async () => {
    const client = server.client();
    const mismatches: string[] = [];
    for (const key of [...EDGE_KEYS, ...keys(2_000)]) {
      const slot = Number(await client.cluster('KEYSLOT', key));
      if (hashSlot(key) !== slot) mismatches.push(`${JSON.stringify(key)}: Redis ${slot}, ours ${hashSlot(key)}`);
    }
    expect(mismatches).toEqual([]);
  });
});
