import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

describe('the published package', () => {
  const outDir = mkdtempSync(join(root, '.package-test-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('builds with declarations and loads through require and import', async () => {
    await run(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir],
      { cwd: root },
    );
    expect(readFileSync(join(outDir, 'index.d.ts'), 'utf8')).toContain('WithLock');
    const names = [
      'RedisLockModule',
      'LockService',
      'WithLock',
      'LockInterceptor',
      'LockNotAcquiredError',
      'LockLostError',
      'LockStoreError',
      'LockError',
      'LockArgumentError',
      'LockExceptionFilter',
      'LockGraphQLError',
      'toHttpException',
    ];
    const entry = join(outDir, 'index.js');
    const required = await run(
      process.execPath,
      ['-e', `const m = require(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(m)))`],
      { cwd: root },
    );
    const imported = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(m)))`,
      ],
      { cwd: root },
    );
    for (const output of [required.stdout, imported.stdout]) {
      expect(JSON.parse(output)).toEqual(expect.arrayContaining(names));
    }
    // It loads without the transports' packages (GraphQL, WebSockets, microservices): the compiled
    // code requires nothing but its peers, node's own modules and its own files.
    const peers = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).peerDependencies);
    const files = readdirSync(outDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    const specifiers = files.flatMap((f) =>
      [...readFileSync(join(outDir, f), 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!),
    );
    const outside = specifiers.filter(
      (s) => !s.startsWith('.') && !s.startsWith('node:') && !peers.some((p) => s === p || s.startsWith(`${p}/`)),
    );
    expect(outside).toEqual([]);
    // The subpath entries load both ways too.
    for (const [entryPath, name] of [
      ['nest/testing/index.js', 'RedisLockTestingModule'],
      ['nest/health/index.js', 'RedisLockHealthIndicator'],
    ]) {
      const sub = JSON.stringify(join(outDir, entryPath!));
      const viaRequire = await run(process.execPath, ['-e', `console.log(Object.keys(require(${sub})))`], {
        cwd: root,
      });
      const viaImport = await run(
        process.execPath,
        ['--input-type=module', '-e', `console.log(Object.keys(await import(${sub})))`],
        { cwd: root },
      );
      expect(viaRequire.stdout).toContain(name);
      expect(viaImport.stdout).toContain(name);
    }
  }, 120_000);

  it('the main and testing declarations never name an optional peer (they compile without them)', () => {
    const reached = declarationsReachedFrom([join(outDir, 'index.d.ts'), join(outDir, 'nest/testing/index.d.ts')]);
    expect(reached.length).toBeGreaterThan(10);
    for (const file of reached) {
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      expect(text, file).not.toMatch(/@opentelemetry|@nestjs\/terminus/);
    }
  });

  it('its declarations type-check in a consumer, with the internals stripped', async () => {
    writeFileSync(
      join(outDir, 'consumer.ts'),
      [
        "import { CurrentLock, LeaderOnly, type Leadership, type Lock, type LockErrorCode, type LockInspection, type LockErrorPayload, LockExceptionFilter, type LockLostEvent, LockService, LockStoreError, RedisLockModule, WithLock } from './index.js';",
        "import { LockTesting, RedisLockTestingModule } from './nest/testing/index.js';",
        'export async function useTesting(testing: LockTesting): Promise<number> {',
        '  void RedisLockTestingModule.forRoot({ ttl: 1_000 });',
        "  const busy = await testing.holdBusy('order:7');",
        '  await busy.release();',
        "  return testing.loseHeldLocks({ key: 'order:7', reason: 'expired' });",
        '}',
        'export async function use(locks: LockService): Promise<number> {',
        "  const lock: Lock = await locks.acquire(['a', 'b'], { minHold: 10, maxHold: 60_000 });",
        '  RedisLockModule.forRoot({ onLockLost: (event: LockLostEvent) => event.reason });',
        "  void CurrentLock('a'); void WithLock('k', { onBusy: 'skip', name: 'k' }); void LeaderOnly('role', { ttl: 5_000 });",
        "  const leadership: Leadership = locks.campaign('role'); const seen: LockInspection = await locks.inspect('a');",
        '  void leadership.isLeader; void seen.holders[0]?.holder;',
        "  const code: LockErrorCode = LockStoreError.closed().code; const payload: LockErrorPayload = { status: 'error', code, message: '' };",
        '  void new LockExceptionFilter(); void payload;',
        '  // @ts-expect-error the lease behind a handle is not public',
        '  void lock.lease;',
        '  // @ts-expect-error the life cycle is not public',
        '  void locks.run;',
        "  return (locks.current('a')?.fence ?? 0) + lock.fence;",
        '}',
      ].join('\n'),
    );
    const tsc = require.resolve('typescript/bin/tsc');
    const flags = [
      '--ignoreConfig',
      '--noEmit',
      '--strict',
      '--module',
      'node20',
      '--target',
      'es2022',
      '--types',
      'node',
    ];
    await run(process.execPath, [tsc, ...flags, '--lib', 'es2023,esnext.disposable', join(outDir, 'consumer.ts')], {
      cwd: outDir,
    });
  }, 120_000);

  it('declares main, types and exports pointing at dist/', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.main).toBe('dist/index.js');
    expect(pkg.types).toBe('dist/index.d.ts');
    expect(pkg.exports['.'].require).toBe('./dist/index.js');
    expect(pkg.exports['.'].import).toBe('./dist/index.js');
    expect(pkg.exports['./testing']).toEqual({
      types: './dist/nest/testing/index.d.ts',
      require: './dist/nest/testing/index.js',
      import: './dist/nest/testing/index.js',
      default: './dist/nest/testing/index.js',
    });
    expect(pkg.peerDependenciesMeta).toEqual({
      '@nestjs/terminus': { optional: true },
      '@opentelemetry/api': { optional: true },
    });
    expect(Object.keys(pkg.peerDependencies)).toEqual(
      expect.arrayContaining(['@nestjs/common', '@nestjs/core', 'ioredis', 'reflect-metadata', 'rxjs']),
    );
  });
});

/** Every emitted .d.ts a consumer's compiler reads, starting from `entries` (relative imports only). */
function declarationsReachedFrom(entries: string[]): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const base = join(dirname(file), match[1]!.replace(/\.js$/, ''));
      const next = [`${base}.d.ts`, join(base, 'index.d.ts')].find((candidate) => existsSync(candidate));
      if (next) queue.push(next);
    }
  }
  return [...seen];
}
