export { RedisLockHealthIndicator } from './redis-lock.health-indicator';
