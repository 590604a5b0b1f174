import { SLOT_COUNT, crc16Step } from './hash-slot';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** A tag is stored as its length times this, plus its index among the tags of that length. */
const LENGTH_UNIT = 1 << 20;

let tags: Int32Array | undefined;

/**
 * A short hash tag per slot (`{tag}` makes a key hash to that slot): the first of length 1 to 3
 * in alphabet order. The table is computed once (each tag's CRC16 extends its stem's; a few
 * milliseconds, see warmSlotTags), rather than kept as 16,384 entries of data in the source.
 */
export function slotTag(slot: number): string {
  tags ??= computeTags();
  const entry = tags[slot]!;
  return tagAt(entry % LENGTH_UNIT, Math.floor(entry / LENGTH_UNIT));
}

/** Computes the table now (a store does at construction), so no lock's first acquire waits for it. */
export function warmSlotTags(): void {
  tags ??= computeTags();
}

function computeTags(): Int32Array {
  const found = new Int32Array(SLOT_COUNT).fill(-1);
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
        if (found[slot] === -1) {
          found[slot] = length * LENGTH_UNIT + index;
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
