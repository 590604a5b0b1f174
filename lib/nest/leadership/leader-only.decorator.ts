import { Reflector } from '@nestjs/core';
import { LockArgumentError, LockError } from '../../core/errors';
import type { CampaignOptions } from '../../core/leadership/campaign-options.interface';
import { leadershipRequest } from '../../core/leadership/leadership-request';
import { DEFAULT_TTL } from '../../core/defaults';
import { NO_RUNNER } from '../../core/lock.messages';
import { copyMethodMetadata } from '../decorators/copy-method-metadata';
import { lockServiceRegistry } from '../lock.service';

/** What @LeaderOnly records on a method: the role, its options, the method's name for logs. */
export interface LeaderOnlyMetadata {
  readonly name: string;
  readonly options: CampaignOptions | undefined;
  readonly method: string;
}

/** Read by the explorer, which starts each role's campaign at bootstrap. */
export const LeaderOnlyMethod = Reflector.createDecorator<LeaderOnlyMetadata>();

/**
 * Runs the method only on the replica that leads `name` (a @Cron job, an interval, a queue
 * consumer): every replica campaigns for `name` from bootstrap, the leader's calls run, and
 * elsewhere the method returns `undefined` without running (logged at debug level). Methods
 * with the same name share one campaign. `options.ttl`: the leader's lease (how long a crashed
 * leader's role stays vacant at most); default the module's ttl.
 */
export function LeaderOnly(name: string, options?: CampaignOptions): MethodDecorator {
  // Checked when the class is defined: a bad name fails at startup, not at the first tick.
  leadershipRequest(name, options, DEFAULT_TTL, '@LeaderOnly name', '@LeaderOnly options');
  return (target, propertyKey, descriptor) => {
    const original = descriptor.value;
    if (typeof original !== 'function') {
      throw new LockArgumentError('@LeaderOnly target', `${String(propertyKey)} is not a method`);
    }
    const method = `${(target as object).constructor?.name ?? 'anonymous'}.${String(propertyKey)}`;
    const wrapper = function (this: unknown, ...args: unknown[]): unknown {
      const service = lockServiceRegistry.resolve(this);
      if (!service) throw new LockError(NO_RUNNER(method, '@LeaderOnly'));
      return service.runAsLeader(name, options, method, () => original.apply(this, args));
    };
    copyMethodMetadata(original, wrapper);
    descriptor.value = wrapper as typeof descriptor.value;
    LeaderOnlyMethod({ name, options, method })(target, propertyKey, descriptor);
    return descriptor;
  };
}
