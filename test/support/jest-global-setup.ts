import { spawnSync } from 'node:child_process';
import { motoCommand } from './moto-server';

/**
 * Runs once before any test file: the AWS tests need a real `moto_server`
 * (test/support/moto-server.ts starts it, through its launcher when `python3`
 * imports moto, else as installed). Without it, a dozen suites would each fail
 * with `spawn moto_server ENOENT` while the others pass; instead the run stops
 * here with one line naming the install.
 */
export default function checkTestPrerequisites(): void {
  const { command, args } = motoCommand();
  const probe = spawnSync(command, [...args, '--help'], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) {
    process.stderr.write(
      `moto_server not found (${probe.error?.message ?? `${command} exited with ${String(probe.status)}`}): install it with \`pip install 'moto[server]' cfn-lint\`, then run the tests again\n`,
    );
    process.exit(1);
  }
}
