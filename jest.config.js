/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.tsx?$': ['@swc/jest'] },
  // Synthesizing CDK stacks is CPU-bound; two workers match the CI machine.
  maxWorkers: 2,
  testTimeout: 60000,
};
