import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { LockService, lockServiceRegistry } from './lock.service';
import { REQUEST_SCOPED_PROVIDER } from '../core/lock.messages';
import { LockedMethod } from './decorators/locked-method.metadata';
import { type LeaderOnlyMetadata, LeaderOnlyMethod } from './leadership/leader-only.decorator';

/**
 * Binds every provider and controller instance that has @WithLock or @LeaderOnly methods to this
 * module's LockService, so the wrappers use the right one when several apps share a process, and
 * starts the campaign of each @LeaderOnly role, so a replica campaigns from bootstrap.
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
      if (typeof instance !== 'object' || instance === null) continue;
      const roles = this.leaderOnlyMethods(instance);
      if (roles.length === 0 && !this.hasLockedMethods(instance)) continue;
      if (!wrapper.isDependencyTreeStatic()) {
        this.logger.warn(REQUEST_SCOPED_PROVIDER(wrapper.name));
        continue;
      }
      lockServiceRegistry.bind(instance, this.locks);
      for (const { name, options } of roles) this.locks.sharedLeadership(name, options);
    }
  }

  private hasLockedMethods(instance: object): boolean {
    return this.methodsOf(instance).some((method) => this.reflector.get(LockedMethod, method) !== undefined);
  }

  private leaderOnlyMethods(instance: object): LeaderOnlyMetadata[] {
    return this.methodsOf(instance).flatMap((method) => this.reflector.get(LeaderOnlyMethod, method) ?? []);
  }

  private methodsOf(instance: object): Function[] {
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown> | null;
    if (!prototype) return [];
    return this.scanner.getAllMethodNames(prototype).flatMap((name) => {
      const method = prototype[name];
      return typeof method === 'function' ? [method] : [];
    });
  }
}
