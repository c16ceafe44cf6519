// ESLint (flat config): typescript-eslint's recommended, type-checked rules over the TypeScript
// sources and tests (`npm run lint`, run by .ci/run). Formatting is prettier's (`npm run format`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      // ioredis, js-yaml, the OTLP exporters and TLS are required lazily on purpose: every worker would pay for them at startup.
      '@typescript-eslint/no-require-imports': 'off',
      // node:test's test() and describe() return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // An async function with no await is how a Promise-returning interface (MetricProducer.collect, render) is met simply.
      '@typescript-eslint/require-await': 'off',
      // The instrumentation and the fork wrapper capture originals (cluster.fork, server.emit, server.close) on purpose, to call them with apply.
      '@typescript-eslint/unbound-method': 'off',
      // A variable read by a closure before its single assignment (the supervisor and its pool refer to each other) cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Test helpers render values received from the wire (OTLP JSON, labels) into assertion messages as they are.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-base-to-string': 'off', '@typescript-eslint/restrict-template-expressions': 'off' },
  },
);
