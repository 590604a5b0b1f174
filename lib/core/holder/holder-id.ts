import { hostname } from 'node:os';
import { LockArgumentError } from '../errors';
import { createToken } from '../utils/create-token';
import { describeValue } from '../utils/describe-value';

/** Longest holder id accepted (characters): it rides in every token, so in every lock command. */
export const MAX_HOLDER_ID_LENGTH = 128;

/** Separates a token's random part (base64url, which has no dot) from its holder's id. */
const SEPARATOR = '.';

/** This process, as `inspect` names it by default: host name and process id, e.g. `api-7f9c:4121`. */
export function defaultHolderId(): string {
  const pid = `:${process.pid}`;
  return hostname().slice(0, MAX_HOLDER_ID_LENGTH - pid.length) + pid;
}

/** A holder id option: a non-empty string of at most 128 characters, no control characters. */
export function validateHolderId(value: unknown, argument = 'options.holderId'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_HOLDER_ID_LENGTH) {
    throw new LockArgumentError(
      argument,
      `expected a non-empty string of at most ${MAX_HOLDER_ID_LENGTH} characters, got ${describeValue(value)}`,
    );
  }
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw new LockArgumentError(argument, `${describeValue(value)} has a control character`);
  }
  return value;
}

/**
 * What every token of this holder ends with: computed once, appended to the random part, so the
 * holder's identity is stored with each lease without a write of its own. URI-encoded, so a
 * token never has a space (a quorum's grant record separates token and fence with one).
 */
export function holderSuffix(holderId: string): string {
  return SEPARATOR + encodeURIComponent(holderId);
}

/** A fresh token for the holder `token` names: a new random part, the same holder suffix. */
export function freshTokenLike(token: string): string {
  const at = token.indexOf(SEPARATOR);
  return createToken() + (at === -1 ? '' : token.slice(at));
}

/** The holder id a token carries, or undefined for a token without one (a foreign writer's). */
export function holderOf(token: string): string | undefined {
  const at = token.indexOf(SEPARATOR);
  if (at === -1) return undefined;
  try {
    return decodeURIComponent(token.slice(at + 1));
  } catch {
    return undefined;
  }
}
