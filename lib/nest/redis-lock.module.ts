import { Logger, Module } from '@nestjs/common';
import { DiscoveryModule, ModulesContainer } from '@nestjs/core';
import { LockExplorer } from './lock.explorer';
import { LockService } from './lock.service';
import { DEFAULT_LOCK_ANSWERS } from './outcomes/default-lock-answers';
import { runShutdownHooksLast } from './shutdown-order';
import { LOCK_STORE, RESOLVED_OPTIONS } from './redis-lock.tokens';
import { REDIS_LOCK_MODULE_OPTIONS, RedisLockConfigurableModule } from './redis-lock.module-definition';
import { createLockStore } from './create-lock-store';
import { type ResolvedModuleOptions, validateModuleOptions } from './options/validate-module-options';

/**
 * Distributed locks for Nest: `RedisLockModule.forRoot({ redis: 'redis://…' })` or
 * `forRootAsync({ useFactory, inject })`, with `isGlobal` to make LockService available everywhere.
 * Its shutdown hooks run after every other module's, so the store closes last. Unless
 * `exceptionFilter: false`, it answers lock errors for the whole application (see DEFAULT_LOCK_ANSWERS).
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: RESOLVED_OPTIONS, useFactory: validateModuleOptions, inject: [REDIS_LOCK_MODULE_OPTIONS] },
    {
      provide: LOCK_STORE,
      useFactory: (options: ResolvedModuleOptions) => createLockStore(options, new Logger('RedisLock')),
      inject: [RESOLVED_OPTIONS],
    },
    LockService,
    LockExplorer,
    ...DEFAULT_LOCK_ANSWERS,
  ],
  exports: [LockService],
})
export class RedisLockModule extends RedisLockConfigurableModule {
  constructor(modules: ModulesContainer) {
    super();
    runShutdownHooksLast(modules, RedisLockModule);
  }
}
