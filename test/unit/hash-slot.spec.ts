import { describe, expect, it } from 'vitest';
import { SLOT_COUNT, hashSlot } from '../../lib/core/keys/hash-slot';
import { slotTag } from '../../lib/core/keys/slot-tags';
import { fenceCounterOf, toStoreKey } from '../../lib/core/keys/store-keys';

describe('hash slots, as Redis Cluster computes them', () => {
  it('matches Redis on known keys (CRC16/XMODEM of the hash tag, mod 16384)', () => {
    expect(hashSlot('123456789')).toBe(0x31c3); // the CRC16/XMODEM check value
    expect(hashSlot('foo')).toBe(12182); // CLUSTER KEYSLOT foo
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('user1000'));
    expect(hashSlot('foo{}{bar}')).not.toBe(hashSlot('bar')); // an empty first tag: the whole key
    expect(hashSlot('é')).toBe(hashSlot('{é}x')); // UTF-8 bytes
  });

  it("every slot has a short tag that hashes to it, and a counter name in the lock key's slot", () => {
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const tag = slotTag(slot);
      expect(tag.length).toBeLessThanOrEqual(3);
      if (hashSlot(tag) !== slot) expect.fail(`tag ${tag} of slot ${slot} hashes to ${hashSlot(tag)}`);
    }
    for (const key of ['order:1', '{tenant:7}:report', 'ключ', '']) {
      const storeKey = toStoreKey('lock:', key || 'x');
      expect(hashSlot(fenceCounterOf(storeKey))).toBe(hashSlot(storeKey));
      expect(fenceCounterOf(storeKey)).toMatch(/^redis-lock:\{[a-zA-Z0-9]{1,3}\}:fence$/);
    }
  });
});
