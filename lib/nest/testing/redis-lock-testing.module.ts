import { type DynamicModule, Module } from '@nestjs/common';
import type { RedisLockModuleOptions } from '../options/redis-lock-module-options.interface';
import { RedisLockModule } from '../redis-lock.module';
import { LockTesting } from './lock-testing';

/**
 * RedisLockModule for your own tests: the memory store (no Redis), global, with `LockTesting`
 * to make keys busy and held locks lost. Import it in place of RedisLockModule.
 */
@Module({})
export class RedisLockTestingModule {
  static forRoot(options: Omit<RedisLockModuleOptions, 'store' | 'redis'> = {}): DynamicModule {
    return {
      module: RedisLockTestingModule,
      global: true,
      imports: [RedisLockModule.forRoot({ ...options, store: 'memory', isGlobal: true })],
      providers: [LockTesting],
      exports: [LockTesting],
    };
  }
}
