import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { LockService, lockServiceRegistry } from './lock.service';
import { REQUEST_SCOPED_PROVIDER } from '../core/lock.messages';
import { LockedMethod } from './decorators/locked-method.metadata';

/**
 * Binds every provider and controller instance that has @WithLock methods to this module's
 * LockService, so the wrappers use the right one when several apps share a process.
 */
@Injectable()
export class LockExplorer implements OnModuleInit {
  private readonly logger = new Logger('RedisLock');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly locks: LockService,
  ) {}

  onModuleInit(): void {
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (typeof instance !== 'object' || instance === null || !this.hasLockedMethods(instance)) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        this.logger.warn(REQUEST_SCOPED_PROVIDER(wrapper.name));
        continue;
      }
      lockServiceRegistry.bind(instance, this.locks);
    }
  }

  private hasLockedMethods(instance: object): boolean {
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown> | null;
    if (!prototype) return false;
    return this.scanner.getAllMethodNames(prototype).some((name) => {
      const method = prototype[name];
      return typeof method === 'function' && this.reflector.get(LockedMethod, method) !== undefined;
    });
  }
}
