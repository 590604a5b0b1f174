import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

/** Every ```ts block of the README (indented ones in lists too), without its indentation. */
function typeScriptBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  for (const match of markdown.matchAll(/^( *)```ts\n([\s\S]*?)^\1```$/gm)) {
    const indent = match[1]!.length;
    blocks.push(
      match[2]!
        .split('\n')
        .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
        .join('\n'),
    );
  }
  return blocks;
}

describe('README', () => {
  const dir = mkdtempSync(join(root, '.readme-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every TypeScript block type-checks (strict) against the package as users import it', async () => {
    const blocks = typeScriptBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    const files = blocks.map((block, i) => {
      const file = `block-${String(i + 1).padStart(2, '0')}.ts`;
      writeFileSync(join(dir, file), block);
      return file;
    });
    const lib = (path: string) => [`../lib/${path}`];
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../tsconfig.json',
        compilerOptions: {
          noEmit: true,
          paths: {
            'nestjs-redis-lock': lib('index.ts'),
            'nestjs-redis-lock/testing': lib('nest/testing/index.ts'),
            'nestjs-redis-lock/health': lib('nest/health/index.ts'),
          },
        },
        include: files,
      }),
    );
    const tsc = require.resolve('typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: root }).catch(
      (error: { stdout: string }) => error,
    );
    // On failure, the compiler's output names the block (block-NN.ts is the NN-th ```ts block).
    expect(result.stdout).toBe('');
  }, 120_000);
});
