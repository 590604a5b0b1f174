// Lint: typescript-eslint's recommended rules, no import circles, and the layer boundaries of lib/:
// core (the lock engine) and stores never import the Nest glue or @nestjs/*; stores reach core only
// for its shared leaves (errors, messages, tuning, keys, utilities, the scope escape).
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const nestImports = {
  group: ['@nestjs/*', '**/nest', '**/nest/**'],
  message: 'lib/core and lib/stores are framework-free: they never import @nestjs/* or lib/nest.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'dist-*/**', 'node_modules/**', 'coverage/**', '.*/**', 'test/packaging/compat-consumer/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mts', '.js'] })] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-empty-object-type': 'off',
    },
  },
  {
    files: ['lib/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [nestImports] }] },
  },
  {
    files: ['lib/stores/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nestImports,
            {
              group: [
                '**/core/lease/**',
                '**/core/waiting/**',
                '**/core/shutdown/**',
                '**/core/telemetry/**',
                '**/core/options/**',
                '**/core/locker',
                '**/core/lock',
              ],
              message:
                "A store depends only on the store interface and core's shared leaves (errors, messages, tuning, keys, utils, scope).",
            },
          ],
        },
      ],
    },
  },
);
