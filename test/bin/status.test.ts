import * as fs from 'node:fs';
import * as path from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { main } from '../../bin/status';
import type { StatusConnection } from '../../bin/status';
import type { StatusReport } from '../../bin/status-model';
import { IamAdapter } from '../../lambda/adapters/iam/iam-adapter';
import {
  GATE_ANNOTATION,
  KUBESTASH_MANAGED_BY,
  MANAGED_BY_LABEL,
  ROLE_ARN_ANNOTATION,
  SEED_ROLE_ANNOTATION,
} from '../../lambda/ports/annotations';
import {
  GATE_TOKEN_PLACEHOLDER,
  JOB_GATE_CONFIGURATION,
  JOB_GATE_WEBHOOK,
} from '../../lambda/ports/gate-webhook';
import { reconcileSeed } from '../../lambda/reconciler/reconcile-seed';
import { loadConfig } from '../../lib/config';
import type { ProjectConfig } from '../../lib/config';
import { PROJECT_DIR, exampleConfigInput } from '../support/example-app';
import type { FaultOptions } from '../support/faulty-aws-handler';
import { MIGRATE_RBAC_RULES } from '../support/migration-fixture';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG } from '../support/moto-server';
import { ReconcileHarness, SEED, SEED_ARN } from '../support/reconcile-harness';

const h = ReconcileHarness.forJest();
// The caller of status (an administrator) may also list the cluster's webhook configurations,
// which the reconciler's Roles never grant; the test that takes it away says so.
beforeEach(() => {
  h.server.rbacRules = MIGRATE_RBAC_RULES;
});

/** The example config, pointed at the harness: one cluster `prod`, moto's account. */
export function statusTestConfig(): ProjectConfig {
  const input = exampleConfigInput();
  input.account = MOTO_ACCOUNT;
  input.clusters = [{ name: 'prod', oidcProviderArn: SEED.clusters[0].providerArn }];
  input.databaseDumps = [];
  return loadConfig({ config: input });
}

/** 42 minutes after now: the age every held Job shows. */
const LATER = () => new Date(Date.now() + 42 * 60_000);

async function run(
  args: string[] = [],
  options: { faults?: FaultOptions; iam?: IAMClient; now?: () => Date } = {},
) {
  let out = '';
  let err = '';
  const progress: string[] = [];
  const { client, handler } = h.iam(options.faults);
  const connection: StatusConnection = {
    iam: new IamAdapter(options.iam ?? client),
    kubernetes: () => h.kubernetes({ maxAttempts: 1 }),
    close: async () => {},
  };
  const code = await main(
    args,
    { out: (t) => (out += t), err: (t) => (err += t), progress: (l) => progress.push(l) },
    { loadConfig: statusTestConfig, connect: () => connection, now: options.now ?? LATER },
  );
  return { code, out, err, progress, iamActions: handler.actions };
}

function addServiceAccounts(names: readonly string[], namespace = 'demo'): void {
  for (const name of names) {
    h.server.addServiceAccount({
      namespace,
      name,
      annotations: { [SEED_ROLE_ANNOTATION]: SEED_ARN },
    });
  }
}

function holdJob(name: string, serviceAccount: string): void {
  h.server.addJob({
    namespace: 'demo',
    name,
    suspend: true,
    serviceAccountName: serviceAccount,
    labels: { [MANAGED_BY_LABEL]: KUBESTASH_MANAGED_BY },
    annotations: { [GATE_ANNOTATION]: 'held' },
  });
}

async function reconcile(): Promise<void> {
  await reconcileSeed(
    {
      iam: new IamAdapter(h.iam().client),
      kubernetes: () => h.kubernetes(),
      now: () => new Date(),
    },
    SEED,
    { emptyRoleGracePeriodSeconds: 3600, otherSeeds: [], reportUnknownSeeds: true },
  );
}

const names = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `backup-${String(from + i).padStart(2, '0')}`);

/** The job gate's registration as README step 8 leaves it (`token` as given), or as dist/ has it. */
function registerGate(token = 'gate-token-of-prod'): void {
  h.server.addMutatingWebhookConfiguration({
    name: JOB_GATE_CONFIGURATION,
    webhooks: [
      {
        name: JOB_GATE_WEBHOOK,
        failurePolicy: 'Ignore',
        url: `https://abcdefghij.lambda-url.us-east-1.on.aws/clusters/prod/${token}`,
      },
    ],
  });
}

/** The sample docs/operations.md and README.md show: a seed at its limit with a held Job. */
export async function seedAtItsLimit(): Promise<void> {
  await h.createSeed(1);
  registerGate();
  addServiceAccounts(names(50));
  await reconcile();
  holdJob('demo-backup-1732900000', 'backup-49');
  holdJob('demo-backup-1732900300', 'backup-02');
}

describe('npm run status', () => {
  test('an empty account: the seed, no roles, nothing waiting, nothing held', async () => {
    await h.createSeed();
    const { code, out, err } = await run();
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toBe(
      [
        `Account ${MOTO_ACCOUNT}; trust-policy quota 2048 characters; job gate: see below`,
        '',
        'Seed KubestashRole: 0 of 100 derived roles, path /kubestash-irsa/, namespaces demo',
        '  (no derived roles yet)',
        '  ServiceAccounts: 0 granted, 0 waiting, 0 refused',
        '  Held Jobs: 0',
        '',
        'Job gate registration:',
        `  prod: missing: no MutatingWebhookConfiguration ${JOB_GATE_CONFIGURATION} with webhook ${JOB_GATE_WEBHOOK}: no Job is held until its role works; apply the job-gate manifest with its token (README, install step 8)`,
        '',
      ].join('\n'),
    );
  });

  test('a seed at its limit: the full role, every refused ServiceAccount with its reason, held Jobs with reason and age', async () => {
    await seedAtItsLimit();
    const { code, out, progress } = await run();
    expect(code).toBe(0);
    expect(out).toContain('Seed KubestashRole: 1 of 1 derived roles (limit reached)');
    const row = /\n {2}KubestashRole-0 +(\d+) +(\d+)\/2048 +(\d+\.\d)%\n/.exec(out);
    expect(row).not.toBeNull();
    const [, subjects, size, fill] = row ?? [];
    expect(Number(size)).toBeGreaterThan(2048 * 0.9);
    expect(Number(size)).toBeLessThanOrEqual(2048);
    expect(Number(fill)).toBe(Math.floor((Number(size) * 1000) / 2048) / 10);
    const group =
      /\n {4}refused DerivedRoleLimitReached \((\d+)\): (.*)\n {6}seed KubestashRole has reached its limit of 1 derived roles.*KubestashRoleRoleCreationLimit/.exec(
        out,
      );
    const refused = (group?.[2] ?? '').split(', ');
    expect(Number(group?.[1])).toBe(refused.length);
    expect(refused.length + Number(subjects)).toBe(50);
    expect(out).toContain(
      `ServiceAccounts: ${subjects} granted, 0 waiting, ${refused.length} refused`,
    );
    expect(out).toMatch(
      /held prod\/demo\/demo-backup-1732900000 +for 42m +ServiceAccount backup-49 +DerivedRoleLimitReached\n {6}seed KubestashRole has reached its limit.*KubestashRoleRoleCreationLimit/,
    );
    expect(out).toMatch(
      /held prod\/demo\/demo-backup-1732900300 +for 42m +ServiceAccount backup-02 +RoleGranted\n {6}its ServiceAccount has KubestashRole-0/,
    );
    expect(progress).toEqual([
      'IAM: account trust-policy quota',
      'IAM: seed KubestashRole and its derived roles',
      'cluster prod: ServiceAccounts and held Jobs in 1 namespace(s)',
      "cluster prod: the job gate's webhook registration",
    ]);
    expect(out.split('\n')[0]).toBe(
      `Account ${MOTO_ACCOUNT}; trust-policy quota 2048 characters; job gate registered with its token in prod`,
    );
    expect(out).not.toContain('Job gate registration:');
  });

  test('the gate applied from dist/ without its token (README step 8 skipped, or undone by kubectl apply -f dist/): said, with what it costs and the fix', async () => {
    await h.createSeed();
    registerGate(GATE_TOKEN_PLACEHOLDER);
    const { code, out } = await run();
    expect(code).toBe(0);
    expect(out).toContain(
      `Job gate registration:\n  prod: placeholder: the webhook URL still ends in ${GATE_TOKEN_PLACEHOLDER} (applied from dist/ without its token): the gate refuses every review, so with failurePolicy Ignore every Job starts ungated; give it its token (README, install step 8), again after every kubectl apply -f dist/\n`,
    );
    const report = JSON.parse((await run(['--json'])).out) as StatusReport;
    expect(report.jobGate).toEqual([
      {
        cluster: 'prod',
        state: 'placeholder',
        message: expect.stringContaining('refuses every review'),
      },
    ]);
  });

  test.each([
    ['an empty token (the secret could not be read in step 8)', ''],
    ['the manifest of another cluster', 'x/../../clusters/staging/t0ken'],
  ])('a webhook URL that cannot reach this cluster’s gate: %s', async (_why, token) => {
    await h.createSeed();
    registerGate(token);
    const { out } = await run();
    expect(out).toMatch(
      /\n {2}prod: misconfigured: the webhook URL .* does not end in \/clusters\/prod\/<token>/,
    );
  });

  test('a caller whose RBAC may not list MutatingWebhookConfigurations: the rest of the status stands, the gate row says it was not checked', async () => {
    await h.createSeed();
    registerGate();
    h.server.rbacRules = [
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['list'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] },
    ];
    const { code, out } = await run();
    expect(code).toBe(0);
    expect(out).toContain('Seed KubestashRole: 0 of 100 derived roles');
    expect(out).toMatch(
      /\n {2}prod: unread: could not list MutatingWebhookConfigurations \(.*403.*\); the gate's registration was not checked/,
    );
  });

  test('--json gives the same state for scripts: subjects per role, reasons, ages in seconds', async () => {
    await seedAtItsLimit();
    const { code, out } = await run(['--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out) as StatusReport;
    expect(report.account).toBe(MOTO_ACCOUNT);
    const [seed] = report.seeds;
    expect(seed.roleCreationLimit).toBe(1);
    expect(seed.roles).toHaveLength(1);
    expect(seed.roles[0].subjects[0]).toEqual({
      cluster: 'prod',
      subject: 'system:serviceaccount:demo:backup-00',
    });
    expect(seed.granted).toBe(seed.roles[0].subjects.length);
    expect(seed.serviceAccounts.every((s) => s.reason === 'DerivedRoleLimitReached')).toBe(true);
    expect(seed.heldJobs.map((j) => [j.name, j.state, j.ageSeconds])).toEqual([
      ['demo-backup-1732900000', 'held', expect.closeTo(42 * 60, -1)],
      ['demo-backup-1732900300', 'held', expect.closeTo(42 * 60, -1)],
    ]);
  });

  test('a ServiceAccount the reconciler has not seen yet is waiting, with the role it will get', async () => {
    await h.createSeed();
    addServiceAccounts(names(3));
    await reconcile();
    addServiceAccounts(['late']);
    h.server.addServiceAccount({
      namespace: 'demo',
      name: 'other-seed',
      annotations: { [SEED_ROLE_ANNOTATION]: `arn:aws:iam::${MOTO_ACCOUNT}:role/SomeoneElse` },
    });
    const { out } = await run();
    expect(out).toContain('ServiceAccounts: 3 granted, 1 waiting, 0 refused');
    expect(out).toContain(
      '    waiting WaitingForRole (1): prod/demo/late\n      the next reconcile pass trusts it in KubestashRole-0 and annotates it\n',
    );
    // Granted means annotated: the ServiceAccount carries the role the table counts.
    expect(h.server.serviceAccount('demo', 'backup-00')).toMatchObject({
      metadata: {
        annotations: { [ROLE_ARN_ANNOTATION]: expect.stringContaining('KubestashRole-0') },
      },
    });
  });

  test('it only reads: no IAM write, no Kubernetes write', async () => {
    await seedAtItsLimit();
    h.server.requests.length = 0;
    const { iamActions } = await run();
    expect(iamActions.every((a) => /^(Get|List)/.test(a))).toBe(true);
    expect(new Set(h.server.requests.map((r) => r.method))).toEqual(new Set(['GET']));
  });

  describe('a clear one-line error, naming the fix, when credentials or access are missing', () => {
    const oneLine = (err: string) => {
      expect(err.trimEnd().split('\n')).toHaveLength(1);
      return err;
    };

    test('no AWS credentials', async () => {
      const iam = new IAMClient({
        ...MOTO_CLIENT_CONFIG,
        endpoint: h.moto.endpoint,
        // What the SDK's default chain throws when no source has credentials (its
        // CredentialsProviderError, from @smithy/property-provider).
        credentials: () =>
          Promise.reject(
            Object.assign(new Error('Could not load credentials from any providers'), {
              name: 'CredentialsProviderError',
            }),
          ),
      });
      const { code, err, out } = await run([], { iam });
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(oneLine(err)).toMatch(
        /^no AWS credentials found \(.*\): log in first, e\.g\. `aws sso login/,
      );
    });

    test('IAM refuses a read', async () => {
      await h.createSeed();
      const { code, err } = await run([], { faults: { deny: ['ListRoles'] } });
      expect(code).toBe(1);
      expect(oneLine(err)).toMatch(
        /^AWS refused a read \(User: .* is not authorized to perform: iam:ListRoles .*\): status needs iam:GetAccountSummary, .*iam:ListRoles.*; use credentials that have them/,
      );
    });

    test('the stack is not deployed in this account', async () => {
      const { code, err } = await run();
      expect(code).toBe(1);
      expect(oneLine(err)).toBe(
        'seed role KubestashRole does not exist in the account your AWS credentials reach: deploy the stack (cdk deploy), or point AWS_PROFILE at the account it is deployed in\n',
      );
    });

    test('the cluster does not accept the caller (no access entry)', async () => {
      await h.createSeed();
      h.server.acceptToken = 'someone-else';
      const { code, err } = await run();
      expect(code).toBe(1);
      expect(oneLine(err)).toMatch(
        /^cluster prod does not accept your IAM identity \(401\): give it an EKS access entry \(aws eks create-access-entry --cluster-name prod/,
      );
    });

    test("the cluster's RBAC refuses the caller", async () => {
      await h.createSeed();
      h.server.rbacRules = [];
      const { code, err } = await run();
      expect(code).toBe(1);
      expect(oneLine(err)).toMatch(
        /^cluster prod refuses a read \(403: .*serviceaccounts.*\): bind your identity's group to a Role that may list serviceaccounts and list batch jobs/,
      );
    });

    test('bad usage', async () => {
      const { code, err } = await run(['--yaml']);
      expect(code).toBe(2);
      expect(err).toBe('unknown argument --yaml\nusage: npm run status [-- --json]\n');
    });
  });
});

describe('the sample in README.md and docs/operations.md', () => {
  const START = '<!-- status-sample:start -->';
  const END = '<!-- status-sample:end -->';
  const block = (text: string) => `${START}\n\n\`\`\`\n${text}\`\`\`\n\n${END}`;

  test.each(['README.md', 'docs/operations.md'])(
    '%s shows what status prints for the seed-at-its-limit fixture (UPDATE_STATUS_SAMPLE=1 rewrites it)',
    async (file) => {
      await seedAtItsLimit();
      const { out } = await run();
      const where = path.join(PROJECT_DIR, file);
      const text = fs.readFileSync(where, 'utf8');
      const at = text.indexOf(START);
      const end = text.indexOf(END);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(end).toBeGreaterThan(at);
      const current = text.slice(at, end + END.length);
      if (process.env.UPDATE_STATUS_SAMPLE === '1') {
        fs.writeFileSync(where, text.replace(current, block(out)));
        return;
      }
      expect(current).toBe(block(out));
    },
  );
});
