export { RedisLockModule } from './redis-lock.module';
export {
  REDIS_LOCK_ASYNC_OPTIONS_TYPE,
  REDIS_LOCK_MODULE_OPTIONS,
  REDIS_LOCK_OPTIONS_TYPE,
} from './redis-lock.module-definition';
export { LockService } from './lock.service';
export { Lock } from './lock';
export { LockInterceptor } from './lock.interceptor';
export { WithLock } from './decorators/with-lock.decorator';
export { CurrentLock } from './decorators/current-lock.decorator';
export { runOutsideLockScope } from './lock-scope';
export {
  LockArgumentError,
  LockError,
  type LockErrorCode,
  LockLostError,
  type LockLostReason,
  LockNotAcquiredError,
  LockStoreError,
} from './errors';
export { toHttpException } from './outcomes/http-answer';
export { LockExceptionFilter } from './outcomes/lock-exception.filter';
export { LockGraphQLError } from './outcomes/graphql-answer';
export type { LockErrorPayload } from './outcomes/message-answer';
export type { AcquireOptions } from './interfaces/acquire-options.interface';
export type {
  KeyFactoryDecorator,
  KeyFactoryFits,
  LockKey,
  LockKeyFactory,
  LockKeySource,
  RequestKeyFactory,
  RouteKeyFactory,
} from './keys/lock-key.interface';
export { requestKey } from './keys/request-key';
export type { LockLostEvent } from './interfaces/lock-lost-event.interface';
export type {
  RedisCompatibleClient,
  RedisConnectionOption,
  RedisLockModuleOptions,
  WaitForReplicasOptions,
} from './interfaces/redis-lock-module-options.interface';
export type { OnBusy, WithLockOptions } from './interfaces/with-lock-options.interface';
export {
  DEFAULT_KEY_PREFIX,
  DEFAULT_SHUTDOWN_GRACE,
  DEFAULT_STORE_TIMEOUT,
  DEFAULT_TTL,
  DEFAULT_WAIT,
} from './redis-lock.constants';
