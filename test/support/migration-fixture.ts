import { IAMClient, CreateRoleCommand } from '@aws-sdk/client-iam';
import { IamAdapter } from '../../lambda/adapters/iam/iam-adapter';
import { KUBERNETES_RBAC_RULES } from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import type { KubernetesPolicyRule } from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import { serviceAccountSubject } from '../../lambda/domain/subject';
import { MANAGED_BY_TAG, MANAGED_BY_VALUE, SEED_TAG } from '../../lambda/ports/tag-keys';
import { main } from '../../bin/migrate';
import type { MigrateRuntime } from '../../bin/migrate';
import { loadConfig } from '../../lib/config';
import type { ProjectConfigInput } from '../../lib/config';
import { createManagerRoles, managerTrustPolicy } from './credential-manager';
import { exampleConfigInput } from './example-app';
import type { FaultyAwsHandler } from './faulty-aws-handler';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG } from './moto-server';
import type { ReconcileHarness } from './reconcile-harness';
import { SEED, SEED_ARN, TEST_ISSUER } from './reconcile-harness';

/**
 * The account and cluster of someone who ran aws-credential-manager (seed 000):
 * its roles at `/`, the session ServiceAccounts that still exist annotated
 * with them, gone ones still in the trust policies, and its webhook.
 *
 * - KubestashRole-0: one live subject (`live-a`, annotated with it) and one stale: kept;
 * - KubestashRole-1: two stale subjects: deleted;
 * - KubestashRole-2: no subject left: deleted;
 * - KubestashRole-3: a stale subject, but `pending` is annotated with it: kept;
 * - KubestashRole-4 at `/` carries this project's tags: not the manager's, never touched;
 * - KubestashRole-backup: not `<seed>-<i>`: never touched.
 */
export const MANAGER_ROLES = {
  'KubestashRole-0': ['live-a', 'sample-backup-daemon-demo-session-1778072138'],
  'KubestashRole-1': [
    'sample-backup-daemon-demo-session-1778072402',
    'retention-policy-sample-backup-daemon-demo-session-1778072402',
  ],
  'KubestashRole-2': [],
  'KubestashRole-3': ['app-restore-restore'],
} as const;

export const managerRoleArn = (name: string) => `arn:aws:iam::${MOTO_ACCOUNT}:role/${name}`;

/** The caller of `migrate` may list webhook configurations; the reconciler may not. */
export const MIGRATE_RBAC_RULES: readonly KubernetesPolicyRule[] = [
  ...KUBERNETES_RBAC_RULES,
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['mutatingwebhookconfigurations'],
    verbs: ['list'],
  },
];

export async function seedMigrationFixture(h: ReconcileHarness): Promise<{ policyArn: string }> {
  const policyArn = await h.createSeed();
  const iam = new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: h.moto.endpoint });
  const providerArn = SEED.clusters[0].providerArn;
  await createManagerRoles(iam, {
    issuer: TEST_ISSUER,
    providerArn,
    policyArn,
    roles: Object.entries(MANAGER_ROLES).map(([name, names]) => ({
      name,
      subjects: names.map((n) => serviceAccountSubject('demo', n)),
    })),
  });
  for (const [name, tags] of [
    [
      'KubestashRole-4',
      [
        { Key: SEED_TAG, Value: 'KubestashRole' },
        { Key: MANAGED_BY_TAG, Value: MANAGED_BY_VALUE },
      ],
    ],
    ['KubestashRole-backup', []],
  ] as const) {
    await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: managerTrustPolicy(TEST_ISSUER, providerArn, [
          serviceAccountSubject('demo', 'gone'),
        ]),
        Tags: [...tags],
      }),
    );
  }
  const seedAnnotation = { 'go.klusters.dev/seed-role-name': SEED_ARN };
  h.server.addServiceAccount({
    namespace: 'demo',
    name: 'live-a',
    annotations: {
      ...seedAnnotation,
      'eks.amazonaws.com/role-arn': managerRoleArn('KubestashRole-0'),
    },
  });
  h.server.addServiceAccount({
    namespace: 'demo',
    name: 'pending',
    annotations: {
      ...seedAnnotation,
      'eks.amazonaws.com/role-arn': managerRoleArn('KubestashRole-3'),
    },
  });
  h.server.addServiceAccount({ namespace: 'demo', name: 'default' });
  // Helm chart values of seed 000 §2: release aws-credential-manager in kubeops, mutating webhook on.
  h.server.addMutatingWebhookConfiguration({
    name: 'aws-credential-manager',
    webhooks: [
      {
        name: 'mutate-job.aws-credential-manager.kubeops.dev',
        service: { namespace: 'kubeops', name: 'aws-credential-manager' },
        rules: [
          {
            apiGroups: ['batch'],
            apiVersions: ['v1'],
            operations: ['CREATE'],
            resources: ['jobs'],
          },
        ],
        objectSelector: { matchLabels: { 'app.kubernetes.io/managed-by': 'kubestash.com' } },
      },
    ],
  });
  h.server.rbacRules = MIGRATE_RBAC_RULES;
  return { policyArn };
}

/** The example config, pointed at the harness: one cluster `prod-cluster` on the harness's issuer, seed KubestashRole, namespace demo. */
function migrateConfig() {
  const input = exampleConfigInput() as ProjectConfigInput & Record<string, unknown>;
  return loadConfig({
    config: {
      ...input,
      account: MOTO_ACCOUNT,
      clusters: [{ name: 'prod-cluster', oidcIssuerUrl: `https://${TEST_ISSUER}` }],
    },
  });
}

/**
 * `npm run migrate -- <args>` (bin/migrate.ts's `main`) against the harness:
 * IAM through a FaultyAwsHandler (with `crashAfter`, the run dies right after
 * that call), the Kubernetes test server as cluster `prod-cluster`. Returns
 * the exit code, stdout (the report), stderr (progress) and the handler.
 */
export async function runMigrate(
  h: ReconcileHarness,
  args: string[],
  options: { readonly crashAfter?: string } = {},
): Promise<{ code: number; out: string; err: string; aws: FaultyAwsHandler }> {
  const { client, handler: aws } = h.iam();
  if (options.crashAfter !== undefined) aws.crashAfter(options.crashAfter);
  const kubernetes = h.kubernetes();
  const runtime = (): MigrateRuntime => ({
    config: migrateConfig(),
    iam: new IamAdapter(client),
    kubernetes: () => kubernetes,
  });
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) }, runtime);
  return { code, out, err, aws };
}

/** The IAM writes a handler forwarded to moto, in order. */
export const iamWrites = (aws: FaultyAwsHandler) =>
  aws.actions.filter((a) =>
    /^(DetachRolePolicy|DeleteRole|UpdateAssumeRolePolicy|TagRole)/.test(a),
  );
