export { RedisLockModule } from './nest/redis-lock.module';
export {
  REDIS_LOCK_ASYNC_OPTIONS_TYPE,
  REDIS_LOCK_MODULE_OPTIONS,
  REDIS_LOCK_OPTIONS_TYPE,
} from './nest/redis-lock.module-definition';
export { LockService } from './nest/lock.service';
export { Lock } from './core/lock';
export { LockInterceptor } from './nest/lock.interceptor';
export { WithLock } from './nest/decorators/with-lock.decorator';
export { CurrentLock } from './nest/decorators/current-lock.decorator';
export { LeaderOnly } from './nest/leadership/leader-only.decorator';
export { Leadership } from './core/leadership/leadership';
export type { CampaignOptions, HeldLeadership } from './core/leadership/campaign-options.interface';
export type { LockHolder, LockInspection } from './core/operations/lock-inspection';
export { runOutsideLockScope } from './core/scope/lock-scope';
export {
  LockArgumentError,
  LockError,
  type LockErrorCode,
  LockLostError,
  type LockLostReason,
  LockNotAcquiredError,
  LockStoreError,
} from './core/errors';
export { toHttpException } from './nest/outcomes/http-answer';
export { LockExceptionFilter } from './nest/outcomes/lock-exception.filter';
export { LockGraphQLError } from './nest/outcomes/graphql-answer';
export type { LockErrorPayload } from './nest/outcomes/message-answer';
export type { AcquireOptions, LockMode } from './core/options/acquire-options.interface';
export type {
  KeyFactoryDecorator,
  KeyFactoryFits,
  LockKey,
  LockKeyFactory,
  LockKeySource,
  RequestKeyFactory,
  RouteKeyFactory,
} from './nest/keys/lock-key.interface';
export { requestKey } from './nest/keys/request-key';
export type { LockLostEvent } from './core/lock-lost-event.interface';
export type {
  RedisCompatibleClient,
  RedisConnectionOption,
  RedisLockModuleOptions,
  WaitForReplicasOptions,
} from './nest/options/redis-lock-module-options.interface';
export type { OnBusy, WithLockOptions } from './core/options/with-lock-options.interface';
export type {
  AcquireAttempt,
  HandOverRequest,
  HandOverResult,
  LeaseRequest,
  LockKind,
  LockStore,
  LockTarget,
  OptimisticHandOver,
  ReleaseListener,
  ReleaseRequest,
  StoreCapabilities,
} from './stores/lock-store.interface';
export {
  DEFAULT_KEY_PREFIX,
  DEFAULT_SHUTDOWN_GRACE,
  DEFAULT_STORE_TIMEOUT,
  DEFAULT_TTL,
  DEFAULT_WAIT,
} from './core/defaults';
