import type { ModulesContainer } from '@nestjs/core';

/**
 * Nest runs shutdown hooks module by module, nearest the root first and global modules last
 * (their `distance` is Number.MAX_VALUE), and init hooks in the reverse order. The lock module
 * must close its store after every module that may still take or release locks while it shuts
 * down (queue workers close in their onApplicationShutdown), whatever the order of imports and
 * whether it is global: its distance is raised above every other module's, so its hooks run
 * last on shutdown (and first on init, where it needs nothing of other modules).
 */
export function runShutdownHooksLast(modules: ModulesContainer, moduleClass: Function): void {
  for (const moduleRef of modules.values()) {
    if (moduleRef.metatype === moduleClass) moduleRef.distance = Number.POSITIVE_INFINITY;
  }
}
