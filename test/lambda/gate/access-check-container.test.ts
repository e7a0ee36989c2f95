import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ACCESS_CHECK_SCRIPT,
  accessCheckContainer,
} from '../../../lambda/gate/access-check-container';

/**
 * The script runs here under /bin/sh with a stand-in `aws` on PATH that
 * records each call and denies a chosen operation a chosen number of times,
 * the way IAM denies until a new trust policy has propagated.
 */
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'access-check-'));
  fs.writeFileSync(
    path.join(dir, 'aws'),
    `#!/bin/sh
echo "$*" >>"$STUB_DIR/calls"
op="$2"
if [ "$op" = "$DENY_OP" ]; then
  n=$(cat "$STUB_DIR/denied" 2>/dev/null || echo 0)
  if [ "$n" -lt "$DENY_TIMES" ]; then
    echo $((n + 1)) >"$STUB_DIR/denied"
    echo "An error occurred (AccessDenied) when calling the $op operation: Access Denied" >&2
    exit 254
  fi
fi
exit 0
`,
    { mode: 0o755 },
  );
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>) {
  const result = spawnSync('/bin/sh', ['-c', ACCESS_CHECK_SCRIPT], {
    env: {
      PATH: `${dir}:/usr/bin:/bin`,
      STUB_DIR: dir,
      HOSTNAME: 'backup-pod-x1',
      AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/kubestash-irsa/KubestashRole-0',
      TARGETS: 'bucket-a=ace/backups/.kubestash-irsa-access-check/',
      UNMANAGED_BUCKETS: '',
      ATTEMPTS: '3',
      DELAY_SECONDS: '0',
      DENY_OP: 'none',
      DENY_TIMES: '0',
      ...env,
    },
    encoding: 'utf8',
  });
  const calls = fs.existsSync(path.join(dir, 'calls'))
    ? fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n')
    : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}

describe('the access-check script', () => {
  test('lists, puts, heads and deletes one probe under the prefix, never at the bucket root', () => {
    const r = run({});
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      's3api list-objects-v2 --bucket bucket-a --prefix ace/backups/.kubestash-irsa-access-check/ --max-items 1',
      's3api put-object --bucket bucket-a --key ace/backups/.kubestash-irsa-access-check/backup-pod-x1 --body /tmp/kubestash-irsa-probe',
      's3api head-object --bucket bucket-a --key ace/backups/.kubestash-irsa-access-check/backup-pod-x1',
      's3api delete-object --bucket bucket-a --key ace/backups/.kubestash-irsa-access-check/backup-pod-x1',
    ]);
    expect(r.stdout).toContain(
      'access-check: s3://bucket-a/ace/backups/.kubestash-irsa-access-check/ ok: list, put, head, delete (attempt 1/3)',
    );
  });

  test('steps aside when the reconciler released the Job without a role (ACCESS_CHECK=skip from the pod annotation)', () => {
    const r = run({ ACCESS_CHECK: 'skip', DENY_OP: 'list-objects-v2', DENY_TIMES: '99' });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toContain('access-check: skipped');
  });

  test('retries while IAM has not propagated, with a line per attempt, then succeeds', () => {
    const r = run({ DENY_OP: 'put-object', DENY_TIMES: '2' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('PutObject failed (attempt 1/3); retrying in 0 s');
    expect(r.stdout).toContain('PutObject failed (attempt 2/3); retrying in 0 s');
    expect(r.stdout).toContain('ok: list, put, head, delete (attempt 3/3)');
  });

  test('gives up after the bounded attempts, exits 1 and says which step and which role', () => {
    const r = run({ DENY_OP: 'list-objects-v2', DENY_TIMES: '99' });
    expect(r.status).toBe(1);
    expect(r.calls).toHaveLength(3);
    expect(r.stderr).toContain(
      "ListBucket still denied after 3 attempts; the Job's role (arn:aws:iam::111122223333:role/kubestash-irsa/KubestashRole-0) cannot reach the bucket",
    );
  });

  test('checks every managed bucket and names the unmanaged ones without probing them', () => {
    const r = run({
      TARGETS: 'bucket-a=p/.c/ bucket-b=q/.c/',
      UNMANAGED_BUCKETS: 'other-bucket',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('s3://other-bucket is not managed by kubestash-irsa; not checked');
    expect(r.calls.filter((c) => c.startsWith('s3api list-objects-v2'))).toEqual([
      's3api list-objects-v2 --bucket bucket-a --prefix p/.c/ --max-items 1',
      's3api list-objects-v2 --bucket bucket-b --prefix q/.c/ --max-items 1',
    ]);
    expect(r.calls.join('\n')).not.toContain('other-bucket');
  });
});

test('the container runs the script as a non-root user with the settings in its environment', () => {
  const c = accessCheckContainer({
    image: 'amazon/aws-cli:2.27.50',
    attempts: 4,
    delaySeconds: 10,
    targets: [{ bucket: 'b', prefix: 'p/' }],
    unmanagedBuckets: [],
  }) as { command: string[]; securityContext: { runAsNonRoot: boolean } };
  expect(c.command).toEqual(['/bin/sh', '-c', ACCESS_CHECK_SCRIPT]);
  expect(c.securityContext.runAsNonRoot).toBe(true);
});
