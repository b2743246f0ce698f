/**
 * Type checking runs once in `npm test` (tsc --noEmit); jest only transpiles.
 * Quiet tests: the environment holds back what a test logs (console, stderr: the SDK's Runtime logger) and
 * prints it only for a failed test (TEST_LOGS=live prints everything as it happens).
 */
module.exports = {
  testEnvironment: '<rootDir>/test/setup/quiet-environment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 120_000,
};
