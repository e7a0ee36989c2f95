import { spawnSync } from 'node:child_process';

/**
 * Runs once before any test file: the AWS tests need a real `moto_server`
 * (test/support/moto-server.ts). Without it, a dozen suites would each fail
 * with `spawn moto_server ENOENT` while the others pass; instead the run stops
 * here with one line naming the install.
 */
export default function checkTestPrerequisites(): void {
  const probe = spawnSync('moto_server', ['--help'], { stdio: 'ignore' });
  if (probe.error !== undefined) {
    process.stderr.write(
      `moto_server not found on PATH (${probe.error.message}): install it with \`pip install 'moto[server]' cfn-lint\`, then run the tests again\n`,
    );
    process.exit(1);
  }
}
