export { RedisLockTestingModule } from './redis-lock-testing.module';
export { type BusyLock, LockTesting } from './lock-testing';
