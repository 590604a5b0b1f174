export {
  DEFAULT_HEALTH_TIMEOUT,
  type LockHealthCheckOptions,
  RedisLockHealthIndicator,
} from './redis-lock.health-indicator';
