/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // Type-checking @pulumi/aws is slow: `npm run typecheck` checks types once, jest only transpiles.
  transform: {
    "^.+\\.ts$": ["ts-jest", { isolatedModules: true, tsconfig: "tsconfig.json" }],
  },
  // Many tests plan whole stacks (seconds each, more on a busy 2-core CI machine): a generous per-test ceiling.
  testTimeout: 120000,
};
