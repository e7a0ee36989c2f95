/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Stops the run with one line when moto_server is missing (test/support/jest-global-setup.ts).
  globalSetup: '<rootDir>/test/support/jest-global-setup.ts',
  // Silences Powertools' metric and log lines and the SDK's Node.js notice.
  setupFiles: ['<rootDir>/test/support/jest-quiet-env.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  // Synthesizing CDK stacks is CPU-bound; two workers match the CI machine.
  maxWorkers: 2,
  testTimeout: 60000,
};
