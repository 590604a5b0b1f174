import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // SWC keeps decorator metadata (design:paramtypes/returntype), which Nest and @WithLock read.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/**/*.spec.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own redis-server processes; two cores run two files at once.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
