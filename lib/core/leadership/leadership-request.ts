import { LockArgumentError } from '../errors';
import { MAX_DURATION } from '../defaults';
import { validateKeys } from '../keys/validate-keys';
import type { LockRequest } from '../locker';
import { describeValue } from '../utils/describe-value';
import { validateTtl } from '../options/validate-acquire-options';
import type { CampaignOptions } from './campaign-options.interface';

/** Where a role's lock lives, under the key prefix: `leader:<name>`. */
export const LEADER_KEY_PREFIX = 'leader:';

/**
 * The lock request of a campaign for `name`: waits for as long as the campaign runs, renews for
 * as long as it leads. @internal
 */
export function leadershipRequest(
  name: unknown,
  options: unknown,
  defaultTtl: number,
  argument = 'name',
  optionsArgument = 'options',
): LockRequest {
  // An array is refused too: a role has one name.
  if (typeof name !== 'string') throw new LockArgumentError(argument, `expected a string, got ${describeValue(name)}`);
  const key = LEADER_KEY_PREFIX + validateKeys(name, argument)[0]!;
  const ttl = ttlOf(options, defaultTtl, optionsArgument);
  return {
    keys: [key],
    options: {
      kind: 'mutex',
      limit: undefined,
      ttl,
      wait: MAX_DURATION,
      autoRenew: true,
      minHold: 0,
      maxHold: Infinity,
    },
    onBusy: 'throw',
    name: key,
  };
}

function ttlOf(options: unknown, defaultTtl: number, argument: string): number {
  if (options === undefined) return defaultTtl;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LockArgumentError(argument, `expected an object, got ${describeValue(options)}`);
  }
  for (const option of Object.keys(options)) {
    if (option !== 'ttl') throw new LockArgumentError(`${argument}.${option}`, 'unknown option');
  }
  const { ttl } = options as CampaignOptions;
  return ttl === undefined ? defaultTtl : validateTtl(ttl, `${argument}.ttl`);
}
