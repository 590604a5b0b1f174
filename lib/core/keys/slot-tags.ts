import { SLOT_COUNT, crc16Step } from './hash-slot';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

let tags: string[] | undefined;

/**
 * A short hash tag per slot (`{tag}` makes a key hash to that slot): the first of length 1 to 3
 * in alphabet order. Computed once, on first use (about a millisecond: each tag's CRC16 extends
 * its stem's), rather than kept as 16,384 lines of data in the source.
 */
export function slotTag(slot: number): string {
  tags ??= computeTags();
  return tags[slot]!;
}

function computeTags(): string[] {
  const found: string[] = new Array<string>(SLOT_COUNT).fill('');
  let missing = SLOT_COUNT;
  // Layer k holds the CRC16 of every tag of length k, the tag's letters being its index in base 62.
  let layer = Uint16Array.of(0);
  for (let length = 1; missing > 0; length++) {
    const next = new Uint16Array(layer.length * ALPHABET.length);
    for (let stem = 0; stem < layer.length; stem++) {
      for (let letter = 0; letter < ALPHABET.length; letter++) {
        const index = stem * ALPHABET.length + letter;
        const crc = crc16Step(layer[stem]!, ALPHABET.charCodeAt(letter));
        next[index] = crc;
        const slot = crc % SLOT_COUNT;
        if (found[slot] === '') {
          found[slot] = tagAt(index, length);
          missing--;
        }
      }
    }
    layer = next;
  }
  return found;
}

function tagAt(index: number, length: number): string {
  let tag = '';
  for (let i = 0; i < length; i++, index = Math.floor(index / ALPHABET.length))
    tag = ALPHABET[index % ALPHABET.length]! + tag;
  return tag;
}
