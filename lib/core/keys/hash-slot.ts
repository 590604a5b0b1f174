/** Redis Cluster's key hashing: CRC16 (XMODEM, as Redis' crc16.c) of the key's hash tag, mod 16384. */
export const SLOT_COUNT = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/** The CRC16 of some bytes followed by `byte`, from the CRC16 of those bytes. */
export function crc16Step(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
}

function crc16(bytes: ArrayLike<number>): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = crc16Step(crc, bytes[i]!);
  return crc;
}

/**
 * CRC16 of the UTF-8 bytes of `text` from `start` to `end`; ASCII (the usual key) is hashed
 * without encoding it or copying the range out.
 */
function crc16OfText(text: string, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return crc16(Buffer.from(text.slice(start, end)));
    crc = crc16Step(crc, code);
  }
  return crc;
}

/** The hash slot of `key`, as a Redis Cluster computes it: over the first non-empty `{...}` group, or the whole key. */
export function hashSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16OfText(key, open + 1, close) % SLOT_COUNT;
  }
  return crc16OfText(key, 0, key.length) % SLOT_COUNT;
}
