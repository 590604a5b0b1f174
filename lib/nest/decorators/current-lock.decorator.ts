import { createParamDecorator, type ExecutionContext, type PipeTransform, type Type } from '@nestjs/common';
import { findHeldLock } from '../../core/scope/lock-scope';

/**
 * Injects the Lock the route runs under (the innermost one; the one covering `key` if given), or
 * undefined outside any lock: `@Post(':id') pay(@Param('id') id: string, @CurrentLock() lock: Lock)`.
 * Read `lock.fence` for downstream writes and pass `lock.signal` to work that should stop when
 * the lock is lost. In provider methods, inject LockService and call `current()` instead.
 *
 * Typed here rather than inferred: the inferred type names ParameterDecoratorOptions, which only
 * Nest 12 exports, and the published declarations must compile against Nest 11 too.
 */
export const CurrentLock: (key?: string, ...pipes: (Type<PipeTransform> | PipeTransform)[]) => ParameterDecorator =
  createParamDecorator((key: string | undefined, _context: ExecutionContext) => findHeldLock(key));
