import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');

describe('the dev toolchain', () => {
  it('declares support for the Node version the README names (what npm install warns about as EBADENGINE)', () => {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8'));
    // The oldest Node the package supports, as the README and `engines` name it.
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    expect(readFileSync(resolve(root, 'README.md'), 'utf8')).toContain(`Node.js ${oldest.replace(/\.0$/, '')}`);
    const unsupported = Object.entries(lock.packages as Record<string, { engines?: { node?: string } }>)
      .filter(([path, entry]) => path !== '' && entry.engines?.node && !semver.satisfies(oldest, entry.engines.node))
      .map(([path]) => path);
    // redlock-universal, a benchmark peer, declares Node 22 in every release (README: Two commands).
    expect(unsupported).toEqual(['node_modules/redlock-universal']);
  });
});
