import { randomFillSync } from 'node:crypto';

const TOKEN_BYTES = 16;
/** Random bytes fetched 256 tokens at a time: one call into the CSPRNG per 256 acquisitions. */
const pool = Buffer.alloc(TOKEN_BYTES * 256);
let offset = pool.length;

/** An unguessable owner token for one acquisition: 128 random bits (CSPRNG), base64url. */
export function createToken(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const token = pool.toString('base64url', offset, offset + TOKEN_BYTES);
  offset += TOKEN_BYTES;
  return token;
}
