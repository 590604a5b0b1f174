import { Catch, type ExceptionFilter, type NestInterceptor, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { LockService } from '../lock.service';
import { RESOLVED_OPTIONS } from '../redis-lock.tokens';
import type { ResolvedModuleOptions } from '../options/validate-module-options';
import { LockExceptionFilter } from './lock-exception.filter';
import { NoLockAnswers, WsLockAnswers } from './ws-lock-answers.interceptor';

/** Matches no error: the filter registered when the module's default answers are off. */
abstract class NothingCaught {
  static [Symbol.hasInstance](): boolean {
    return false;
  }
}

@Catch(NothingCaught)
class NoLockFilter implements ExceptionFilter {
  catch(): void {}
}

/**
 * The lock-error answers RedisLockModule registers for its application (option
 * `exceptionFilter`, default true): a global LockExceptionFilter (HTTP, GraphQL, RPC) and, since
 * Nest applies no global filter to WebSocket gateways, a global interceptor for them. Providers
 * are fixed when the module is defined and options may come from forRootAsync, so the factories
 * register inert ones when the option is off. Global filters registered later (app.useGlobalFilters)
 * are asked first, and filters on a route or its class before any global one.
 */
export const DEFAULT_LOCK_ANSWERS: Provider[] = [
  {
    provide: APP_FILTER,
    useFactory: (options: ResolvedModuleOptions, locks: LockService, adapterHost: HttpAdapterHost): ExceptionFilter =>
      options.exceptionFilter ? LockExceptionFilter.forModule(adapterHost, locks.outcomes) : new NoLockFilter(),
    inject: [RESOLVED_OPTIONS, LockService, HttpAdapterHost],
  },
  {
    provide: APP_INTERCEPTOR,
    useFactory: (options: ResolvedModuleOptions, locks: LockService): NestInterceptor =>
      options.exceptionFilter ? new WsLockAnswers(locks.outcomes) : new NoLockAnswers(),
    inject: [RESOLVED_OPTIONS, LockService],
  },
];
