import { spawnSync } from 'node:child_process';

/**
 * Runs once before any test file: the AWS tests need a real `moto_server`,
 * started as `python3 test/support/moto-server-launcher.py`
 * (test/support/moto-server.ts). Without it, a dozen suites would each fail
 * with `spawn python3 ENOENT` or a Python import error while the others pass;
 * instead the run stops here with one line naming the install.
 */
export default function checkTestPrerequisites(): void {
  const probe = spawnSync('python3', ['-c', 'import moto.server, jsonpath_ng.ext'], {
    encoding: 'utf8',
  });
  if (probe.error !== undefined || probe.status !== 0) {
    const why = probe.error?.message ?? probe.stderr.trim().split('\n').pop() ?? '';
    process.stderr.write(
      `python3 cannot import moto's server (${why}): install it with \`pip install 'moto[server]' cfn-lint\`, then run the tests again\n`,
    );
    process.exit(1);
  }
}
