import { randomBytes } from 'node:crypto';

/** An unguessable owner token for one acquisition: 128 random bits. */
export function createToken(): string {
  return randomBytes(16).toString('base64url');
}
