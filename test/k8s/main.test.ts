import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_DIR } from '../support/example-app';
import { GATE_TOKEN_PLACEHOLDER } from '../../k8s/charts/job-gate-chart';
import { parseObjects } from '../support/k8s-manifests';
import { TEST_STACK_OUTPUTS } from '../support/k8s-variants';

/**
 * The cdk8s app as `cdk8s synth` runs it (`npx tsx k8s/main.ts` with
 * CDK8S_OUTDIR set), in a child process: exit codes, files and messages.
 */

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kubestash-irsa-main-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function runMain(outdir: string, env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    CDK8S_OUTDIR: outdir,
    // Not the project's outputs.json, which a real deploy may have left: no outputs unless a test gives some.
    KUBESTASH_IRSA_OUTPUTS_FILE: path.join(work, 'no-outputs.json'),
    ...env,
  };
  // The child reads cdk.json unless told otherwise; a config file in the parent's environment must not leak in.
  if (env.KUBESTASH_IRSA_CONFIG_FILE === undefined) delete childEnv.KUBESTASH_IRSA_CONFIG_FILE;
  const result = spawnSync('npx', ['tsx', 'k8s/main.ts'], {
    cwd: PROJECT_DIR,
    env: childEnv,
    encoding: 'utf8',
    // The machine running the suite may be busy: a cold tsx start can take a minute.
    timeout: 170_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('k8s/main.ts', () => {
  const outdir = path.join(work, 'dist');
  let run: ReturnType<typeof runMain>;

  beforeAll(() => {
    fs.mkdirSync(outdir, { recursive: true });
    // Left by an earlier synth whose config asked for a chart this one does not.
    fs.writeFileSync(
      path.join(outdir, '0009-stale-chart.k8s.yaml'),
      'apiVersion: v1\nkind: Namespace\n',
    );
    fs.writeFileSync(path.join(outdir, 'notes.txt'), 'not a manifest');
    run = runMain(outdir);
  }, 180_000);

  test('exits 0 on the example config', () => {
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
      status: 0,
      stderr: '',
    });
  });

  test('writes the numbered chart files and the Helm values, and removes the stale manifest', () => {
    expect(fs.readdirSync(outdir).sort()).toEqual([
      // Which config the manifests came from (npm run synth compares it with the template's).
      '.synth-config',
      '0000-namespaces.k8s.yaml',
      '0001-reconciler-rbac.k8s.yaml',
      '0002-kubestash-storage.k8s.yaml',
      '0003-backups.k8s.yaml',
      '0004-database-dump-app-db.k8s.yaml',
      '0005-demo-workload.k8s.yaml',
      '0006-job-gate-rbac.k8s.yaml',
      'notes.txt',
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(outdir, '.synth-config'), 'utf8'))).toEqual({
      source: 'cdk.json context "config"',
      sha256: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    // Beside dist/, not in it: kubectl apply -R and cdk8s would take it for a manifest.
    expect(fs.readdirSync(path.join(work, 'helm-values'))).toEqual(['kubestash-values.yaml']);
    for (const file of fs.readdirSync(outdir).filter((f) => f.endsWith('.k8s.yaml'))) {
      expect(parseObjects(fs.readFileSync(path.join(outdir, file), 'utf8')).length).toBeGreaterThan(
        0,
      );
    }
    expect(
      fs.readFileSync(path.join(work, 'helm-values', 'kubestash-values.yaml'), 'utf8'),
    ).toContain('eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/KubestashRole');
  });

  test('prints what it wrote and what to run next on stderr, which cdk8s synth shows', () => {
    // cdk8s synth captures the app's stdout and never prints it; stderr reaches the user.
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'Kubernetes manifests for cluster prod-cluster (seed KubestashRole)',
    );
    expect(run.stderr).toContain('0003-backups.k8s.yaml  (2 objects)');
    expect(run.stderr).toContain('kubectl apply -f');
  });

  test('before the first deploy the job gate is left out with a note, not written with an empty URL', () => {
    expect(fs.readdirSync(outdir).filter((f) => f.endsWith('-job-gate.k8s.yaml'))).toEqual([]);
    expect(run.stderr).toContain('not written: job-gate');
    expect(run.stderr).toContain('npx cdk deploy --outputs-file outputs.json');
  });
});

describe('k8s/main.ts keeps the last good output', () => {
  test('a failed synthesis leaves the previous dist/ as it was and ends with one line saying so', () => {
    const outdir = path.join(work, 'kept-dist');
    expect(runMain(outdir).status).toBe(0);
    const before = Object.fromEntries(
      fs.readdirSync(outdir).map((f) => [f, fs.readFileSync(path.join(outdir, f), 'utf8')]),
    );

    const run = runMain(outdir, {
      KUBESTASH_IRSA_CONTEXT: JSON.stringify({
        'config.kubernetes.retention.maxRetentionPeriod': 'soon',
      }),
    });

    expect(run.status).toBe(1);
    const after = Object.fromEntries(
      fs.readdirSync(outdir).map((f) => [f, fs.readFileSync(path.join(outdir, f), 'utf8')]),
    );
    expect(after).toEqual(before);
    expect(fs.readdirSync(work).filter((f) => f.startsWith('.kept-dist'))).toEqual([]);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe(
      `synth:k8s failed (see above); ${path.relative(PROJECT_DIR, outdir)}/ still holds the previous manifests.`,
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 360_000);

  test('the -c pairs of npm run synth (KUBESTASH_IRSA_CONTEXT) reach the manifests and their record', () => {
    const outdir = path.join(work, 'flag-dist');
    const run = runMain(outdir, {
      KUBESTASH_IRSA_CONTEXT: JSON.stringify({ 'config.bucket.prefix': 'from/flag' }),
    });
    expect(run.status).toBe(0);
    const storage = fs.readFileSync(path.join(outdir, '0002-kubestash-storage.k8s.yaml'), 'utf8');
    expect(storage).toContain('prefix: from/flag/prod-cluster');
    expect(JSON.parse(fs.readFileSync(path.join(outdir, '.synth-config'), 'utf8'))).toMatchObject({
      source: 'cdk.json context "config", -c config.bucket.prefix',
    });
  }, 180_000);
});

describe('k8s/main.ts after cdk deploy --outputs-file', () => {
  const gateUrl = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/';

  test('writes the job gate chart from the stack outputs', () => {
    const file = path.join(work, 'outputs.json');
    fs.writeFileSync(file, JSON.stringify({ KubestashIrsa: TEST_STACK_OUTPUTS }));
    const outdir = path.join(work, 'deployed-dist');
    const run = runMain(outdir, { KUBESTASH_IRSA_OUTPUTS_FILE: file });
    expect(run.status).toBe(0);
    const gate = fs.readdirSync(outdir).filter((f) => f.endsWith('-job-gate.k8s.yaml'));
    expect(gate).toHaveLength(1);
    const [webhook] = parseObjects(fs.readFileSync(path.join(outdir, gate[0]), 'utf8'));
    expect(webhook.kind).toBe('MutatingWebhookConfiguration');
    expect(JSON.stringify(webhook)).toContain(gateUrl.replace(/\/$/, ''));
    // The token is never synthesized: a placeholder the documented apply step fills.
    expect(JSON.stringify(webhook)).toContain(`/clusters/prod-cluster/${GATE_TOKEN_PLACEHOLDER}`);
  }, 180_000);

  test('without JobGateUrl in the file: exits 1 naming the key, the file and the command', () => {
    const file = path.join(work, 'old-outputs.json');
    fs.writeFileSync(file, JSON.stringify({ KubestashIrsa: { BucketName: 'b' } }));
    const run = runMain(path.join(work, 'old-dist'), { KUBESTASH_IRSA_OUTPUTS_FILE: file });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('The manifests need JobGateUrl');
    expect(run.stderr).toContain(
      `${file} has no value for it under KubestashIrsa (it has BucketName)`,
    );
    expect(run.stderr).toContain(`npx cdk deploy --outputs-file ${file}`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 180_000);
});

describe('k8s/main.ts with a bad config', () => {
  test('exits 1 and prints the ConfigError lines, without a stack trace', () => {
    const cdkJson = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, 'cdk.json'), 'utf8')) as {
      context: { config: Record<string, any> };
    };
    const config = cdkJson.context.config;
    config.kubernetes.backups[0].params = { bogus: 'x' };
    config.kubernetes.retention.maxRetentionPeriod = '2 months';
    const file = path.join(work, 'bad-config.json');
    fs.writeFileSync(file, JSON.stringify(config));
    const outdir = path.join(work, 'bad-dist');

    const run = runMain(outdir, { KUBESTASH_IRSA_CONFIG_FILE: file });

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Invalid kubestash-irsa configuration');
    expect(run.stderr).toContain(
      '  - config.kubernetes.retention.maxRetentionPeriod: got "2 months": write a period',
    );
    expect(run.stderr).toContain(
      '  - config.kubernetes.backups.0.params.bogus: got "x": workload-addon task logical-backup takes no parameter "bogus"',
    );
    expect(run.stderr).toContain(
      '  - config.kubernetes.backups.0.params: got {"bogus":"x"}: workload-addon task logical-backup needs the parameter "paths"',
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).not.toContain('ConfigError:');
    expect(fs.existsSync(outdir)).toBe(false);
  }, 180_000);

  test('an unreadable config file is a ConfigError too', () => {
    const run = runMain(path.join(work, 'none-dist'), {
      KUBESTASH_IRSA_CONFIG_FILE: path.join(work, 'does-not-exist.json'),
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('configFile: cannot read');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 180_000);
});
