import { describe, expect, it } from 'vitest';
import { LockArgumentError, WithLock } from '../../lib';
import { resolveKeyTemplate } from '../../lib/core/keys/resolve-key-template';
import { resolveLockKey } from '../../lib/nest/keys/resolve-lock-key';
import { toStoreKey, toStoreKeys } from '../../lib/core/keys/store-keys';
import { validateKeys } from '../../lib/core/keys/validate-keys';
import { keySetId } from '../../lib/core/keys/key-set-id';

/** Reads placeholders from a plain object or array, as the interceptor and the method wrapper do from the call. */
const from = (source: object) => (name: string) => (source as Record<string, unknown>)[name];

describe('key templates', () => {
  it('fills placeholders by name, path and position', () => {
    expect(resolveKeyTemplate('order:{id}', from({ id: '7' }), 'key')).toBe('order:7');
    expect(resolveKeyTemplate('cart:{user.id}:{n}', from({ user: { id: 'u1' }, n: 3 }), 'key')).toBe('cart:u1:3');
    expect(resolveKeyTemplate('invoice:{0}:{1.id}', from(['a', { id: 'b' }]), 'key')).toBe('invoice:a:b');
  });

  it('leaves brace groups that are not property paths alone (Redis Cluster hash tags)', () => {
    expect(resolveKeyTemplate('{order:1}:pay', from({}), 'key')).toBe('{order:1}:pay');
  });

  it.each([
    ['missing', 'order:{id}', {}],
    ['null', 'order:{id}', { id: null }],
    ['empty', 'order:{id}', { id: '' }],
    ['object', 'order:{user}', { user: { id: 1 } }],
    ['NaN', 'order:{n}', { n: Number.NaN }],
    ['deep missing', 'order:{a.b.c}', { a: {} }],
  ])('rejects a placeholder that resolves to nothing usable (%s)', (_name, template, source) => {
    expect(() => resolveKeyTemplate(template, from(source), 'key')).toThrow(LockArgumentError);
  });

  it('validates what a key factory returns and reports one that throws', () => {
    expect(resolveLockKey((id: string) => `a:${id}`, ['1'], from({}))).toEqual(['a:1']);
    expect(resolveLockKey(() => ['a', 'b', 'a'], [], from({}))).toEqual(['a', 'b']);
    expect(() => resolveLockKey((id: unknown) => `order:${String(id)}`, [undefined], from({}))).toThrow(
      LockArgumentError,
    );
    expect(() => resolveLockKey(() => '', [], from({}))).toThrow(LockArgumentError);
    expect(() => resolveLockKey(() => 42 as unknown as string, [], from({}))).toThrow(LockArgumentError);
    expect(() => resolveLockKey(() => Promise.resolve('k') as unknown as string, [], from({}))).toThrow(
      LockArgumentError,
    );
    expect(() =>
      resolveLockKey(
        () => {
          throw new Error('no user');
        },
        [],
        from({}),
      ),
    ).toThrow(/the key function threw: no user/);
  });
});

describe('store keys', () => {
  it('wraps a key in a hash tag so the lock and its fence counter share a cluster slot', () => {
    expect(toStoreKey('lock:', 'order:1')).toBe('lock:{order:1}');
  });

  it('keeps a hash tag the user wrote, so several keys can share a slot', () => {
    expect(toStoreKey('lock:', '{tenant:7}:report')).toBe('lock:{tenant:7}:report');
    expect(toStoreKey('lock:', 'a{}b')).toBe('lock:{a{}b}'); // an empty tag hashes the whole key
  });

  it('refuses two keys of one lock that name one Redis key, naming both (the prefix decides)', () => {
    expect(() => toStoreKeys('lock:', ['x', '{x}'])).toThrow(
      'Invalid key[1]: "{x}" names the same Redis key as key[0] "x" ("lock:{x}")',
    );
    // Under a hash-tagged prefix the two are different Redis keys: `{app}:x` and `{app}:{x}`.
    expect(toStoreKeys('{app}:', ['x', '{x}'])).toEqual(['{app}:x', '{app}:{x}']);
    expect(toStoreKeys('lock:', ['x', 'y'])).toEqual(['lock:{x}', 'lock:{y}']);
  });
});

describe('key text', () => {
  it('accepts any well-formed Unicode without control characters', () => {
    expect(validateKeys(['order:ü-7', '注文:1', 'emoji:🔒', 'a b\u00a0c'])).toHaveLength(4);
  });

  it.each([
    ['a newline', 'a}\nlock:{b'],
    ['a tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u009fb'],
    ['a lone high surrogate', 'a\ud83d'],
    ['a lone low surrogate', '\udd12b'],
  ])('refuses a key with %s, naming it', (_name, key) => {
    expect(() => validateKeys(['ok', key])).toThrow(LockArgumentError);
    expect(() => validateKeys(['ok', key])).toThrow(/^Invalid key\[1\]: /);
  });

  it('refuses a hash-tagged key that would name a fence counter, and only those', () => {
    expect(() => toStoreKey('lock:', '{a}:fence')).toThrow(LockArgumentError);
    expect(() => toStoreKey('{app}:', 'b:fence')).toThrow(LockArgumentError); // the prefix's tag keeps it verbatim
    expect(toStoreKey('lock:', 'a:fence')).toBe('lock:{a:fence}'); // wrapped: it cannot collide
    // A `:fence:` segment is refused too (reserved for names beside the counters).
    expect(() => toStoreKey('lock:', '{a}:fence:grant')).toThrow(LockArgumentError);
    expect(toStoreKey('lock:', '{a}:fencer')).toBe('lock:{a}:fencer');
  });
});

describe('wait queue ids', () => {
  it('never give two different sets of keys one queue, whatever the keys contain', () => {
    const pairs: [string[], string[]][] = [
      [['lock:{a}\nlock:{b}'], ['lock:{a}', 'lock:{b}']],
      [['ab'], ['a', 'b']],
      [['1:a'], ['a']],
      [
        ['a', 'bc'],
        ['ab', 'c'],
      ],
      [['2:ab'], ['ab', '']],
    ];
    for (const [one, other] of pairs) expect(keySetId(one)).not.toBe(keySetId(other));
    expect(keySetId(['lock:{a}', 'lock:{b}'])).toBe(keySetId(['lock:{a}', 'lock:{b}']));
  });
});

describe('@WithLock arguments', () => {
  it.each<[string, () => unknown]>([
    ['empty key', () => WithLock('')],
    ['blank key', () => WithLock('  ')],
    ['empty key array', () => WithLock([])],
    ['non-string key', () => WithLock(5 as unknown as string)],
    ['undefined in key', () => WithLock('job:undefined')],
    ['ttl zero', () => WithLock('k', 0)],
    ['ttl fraction', () => WithLock('k', 10.5)],
    ['ttl too large', () => WithLock('k', 2 ** 31)],
    ['negative wait', () => WithLock('k', { wait: -1 })],
    ['unknown option', () => WithLock('k', { ttl: 100, retries: 3 } as object)],
    ['signal option', () => WithLock('k', { signal: new AbortController().signal } as object)],
    ['options not an object', () => WithLock('k', 'slow' as unknown as number)],
    ['autoRenew not boolean', () => WithLock('k', { autoRenew: 'no' as unknown as boolean })],
  ])('rejects %s when the class is defined', (_name, decorate) => {
    expect(decorate).toThrow(LockArgumentError);
  });

  it('rejects a non-method target', () => {
    const decorator = WithLock('k');
    expect(() => decorator({}, 'field', { value: 5 } as PropertyDescriptor)).toThrow(LockArgumentError);
  });
});
