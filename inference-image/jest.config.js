/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/test/ort-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type-checking is `npm run typecheck`'s job; transpile-only keeps jest fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  // Server tests each load the model; two workers match the two cores CI has.
  maxWorkers: 2,
};
