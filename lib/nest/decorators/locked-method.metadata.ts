import { Reflector } from '@nestjs/core';
import type { WithLockMetadata } from './with-lock-metadata.interface';

/**
 * What @WithLock records on a method, typed: applied by the decorator, read by the interceptor
 * and the explorer with `reflector.get(LockedMethod, handler)`.
 */
export const LockedMethod = Reflector.createDecorator<WithLockMetadata>();
