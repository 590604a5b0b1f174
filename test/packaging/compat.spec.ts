import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../support/redis-server';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
/** Consumers' node_modules, installed once per dependency set and kept between runs (gitignored). */
const cache = join(root, '.compat-cache');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The supported extremes: the oldest Nest with the oldest ioredis, the newest with the newest; and
 * the newest Nest with a user's own iovalkey client (ioredis stays installed: it is a peer).
 */
const MATRIX = [
  {
    name: 'nest11-ioredis5',
    dependencies: ['@nestjs/common@^11', '@nestjs/core@^11', 'ioredis@^5'],
    module: 'node16',
    client: 'ioredis',
  },
  // Nest 12 is ESM-only: a CommonJS project needs node20 (require of ESM) for its own imports too.
  {
    name: 'nest12-ioredis6',
    dependencies: ['@nestjs/common@^12', '@nestjs/core@^12', 'ioredis@^6'],
    module: 'node20',
    client: 'ioredis',
  },
  {
    name: 'nest12-iovalkey',
    dependencies: ['@nestjs/common@^12', '@nestjs/core@^12', 'ioredis@^6', 'iovalkey@^0.4'],
    module: 'node20',
    client: 'iovalkey',
  },
] as const;
// ioredis >= 6.1's declarations import redis-errors, which ships no types: a consumer that checks
// libraries (skipLibCheck: false) needs its @types package, whichever client it uses.
const COMMON = ['reflect-metadata@^0.2', 'rxjs@^7.8', '@types/node@^20.19', '@types/redis-errors@^1.2'];

/** Installs a consumer's dependencies from the npm registry, unless the cache already has exactly these. */
async function installConsumer(dir: string, dependencies: readonly string[]): Promise<void> {
  const marker = join(dir, 'installed.json');
  const wanted = JSON.stringify([...dependencies, ...COMMON]);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted && existsSync(join(dir, 'node_modules'))) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  await run(
    npm,
    ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...dependencies, ...COMMON],
    {
      cwd: dir,
      timeout: 280_000,
    },
  );
  writeFileSync(marker, wanted);
}

/** The tarball unpacked where `npm install <tarball>` puts it (it has no dependencies of its own, only peers). */
async function installTarball(dir: string, tarball: string): Promise<void> {
  const target = join(dir, 'node_modules', 'nestjs-redis-lock');
  const unpacked = mkdtempSync(join(dir, 'unpack-'));
  await run('tar', ['-xzf', tarball, '-C', unpacked]);
  rmSync(target, { recursive: true, force: true });
  renameSync(join(unpacked, 'package'), target);
  rmSync(unpacked, { recursive: true, force: true });
}

describe('compatibility: the packed tarball in a consumer project', () => {
  let tarball: string;
  let files: string[];
  let server: RedisServer;
  const packDir = mkdtempSync(join(root, '.package-test-'));

  beforeAll(async () => {
    // `npm pack` runs prepack (the build), as publishing does.
    const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', packDir, '--loglevel=error'], {
      cwd: root,
      timeout: 120_000,
    });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(packDir, packed!.filename);
    files = packed!.files.map((file) => file.path);
    server = await RedisServer.start();
  }, 150_000);
  afterAll(async () => {
    rmSync(packDir, { recursive: true, force: true });
    await server?.stop();
  });

  it('ships the LICENSE, the README and both entries, and no sources or tests', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'dist/index.js',
        'dist/nest/testing/index.d.ts',
        'dist/nest/health/index.js',
      ]),
    );
    expect(
      files.filter((file) => !file.startsWith('dist/') && !['LICENSE', 'README.md', 'package.json'].includes(file)),
    ).toEqual([]);
  });

  describe.each(MATRIX)('$name (module: $module)', ({ name, dependencies, module, client }) => {
    const dir = join(cache, name);

    beforeAll(async () => {
      await installConsumer(dir, dependencies);
      await installTarball(dir, tarball);
    }, 300_000);

    it.each(['commonjs', 'module'] as const)(
      'type-checks (strict, skipLibCheck: false) and runs as %s',
      async (type) => {
        const project = join(dir, type);
        rmSync(project, { recursive: true, force: true });
        mkdirSync(project);
        writeFileSync(join(project, 'package.json'), JSON.stringify({ type }));
        writeFileSync(join(project, 'smoke.ts'), readFileSync(join(__dirname, 'compat-consumer', 'smoke.ts')));
        writeFileSync(
          join(project, 'client.ts'),
          readFileSync(join(__dirname, 'compat-consumer', `client-${client}.ts`)),
        );
        writeFileSync(
          join(project, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: {
              target: 'es2022',
              module,
              lib: ['es2023', 'esnext.disposable'],
              types: ['node'],
              strict: true,
              skipLibCheck: false,
              experimentalDecorators: true,
              emitDecoratorMetadata: true,
              rootDir: '.',
              outDir: 'out',
            },
            files: ['smoke.ts', 'client.ts'],
          }),
        );
        const tsc = require.resolve('typescript/bin/tsc');
        const compiled = await run(process.execPath, [tsc, '-p', project], { cwd: project, timeout: 120_000 }).catch(
          (error: { stdout: string }) => error,
        );
        expect(compiled.stdout).toBe('');
        writeFileSync(join(project, 'out', 'package.json'), JSON.stringify({ type }));
        const { stdout } = await run(process.execPath, [join(project, 'out', 'smoke.js')], {
          cwd: project,
          timeout: 30_000,
          env: { ...process.env, REDIS_URL: server.url },
        });
        expect(JSON.parse(stdout)).toEqual({ fence: expect.any(Number), busy: null, skipped: null, ran: '1' });
      },
      150_000,
    );
  });
});
