import { UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { IamAdapter } from '../../../lambda/adapters/iam/iam-adapter';
import { serviceAccountSubject } from '../../../lambda/domain/subject';
import { migrateSeed } from '../../../lambda/migration/migrate-seed';
import type { MigrateOptions } from '../../../lambda/migration/migrate-seed';
import { KUBERNETES_RBAC_RULES } from '../../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import { KubernetesForbiddenError } from '../../../lambda/ports/kubernetes-port';
import { managerTrustPolicy } from '../../support/credential-manager';
import { MANAGER_ROLES, seedMigrationFixture } from '../../support/migration-fixture';
import { ReconcileHarness, SEED, TEST_ISSUER } from '../../support/reconcile-harness';

const h = ReconcileHarness.forJest();

const OPTIONS: MigrateOptions = {
  seed: 'KubestashRole',
  managerPath: '/',
  clusters: [{ name: 'prod', issuer: TEST_ISSUER }],
  namespaces: ['demo'],
  managerWebhookMatch: 'aws-credential-manager',
  apply: true,
};

describe('migrateSeed against moto and the Kubernetes test server', () => {
  test('a role the manager trusts a new ServiceAccount in after the report is skipped, then kept', async () => {
    await seedMigrationFixture(h);
    const { client, handler } = h.iam();
    const adapter = new IamAdapter(client);
    // The manager, still running, puts a new session into KubestashRole-1 between read and delete.
    const newcomer = serviceAccountSubject('demo', 'sample-backup-daemon-demo-session-1778099999');
    const iam = Object.assign(Object.create(adapter) as IamAdapter, {
      findRole: async (name: string) => {
        if (name === 'KubestashRole-1') {
          h.server.addServiceAccount({
            namespace: 'demo',
            name: 'sample-backup-daemon-demo-session-1778099999',
          });
          await client.send(
            new UpdateAssumeRolePolicyCommand({
              RoleName: name,
              PolicyDocument: managerTrustPolicy(TEST_ISSUER, SEED.clusters[0].providerArn, [
                ...MANAGER_ROLES['KubestashRole-1'].map((n) => serviceAccountSubject('demo', n)),
                newcomer,
              ]),
            }),
          );
        }
        return adapter.findRole(name);
      },
    });
    const kubernetes = h.kubernetes();
    const progress: string[] = [];
    const first = await migrateSeed(
      { iam, kubernetes: () => kubernetes, progress: (l) => progress.push(l) },
      OPTIONS,
    );
    expect(first.deleted).toEqual(['KubestashRole-2']);
    expect(first.skipped).toEqual([
      {
        role: 'KubestashRole-1',
        why: `it now also trusts ${newcomer}; run migrate again to check them`,
      },
    ]);
    expect(handler.calls('DeleteRole')).toBe(1);

    const second = await migrateSeed(
      { iam: adapter, kubernetes: () => kubernetes, progress: () => {} },
      OPTIONS,
    );
    expect(second.deleted).toEqual([]);
    expect(second.report.roles.find((r) => r.name === 'KubestashRole-1')).toMatchObject({
      action: 'keep',
      live: [newcomer],
    });
  });

  test('without the cluster-scoped list rule the caller is told which ClusterRole rule it needs', async () => {
    await seedMigrationFixture(h);
    h.server.rbacRules = KUBERNETES_RBAC_RULES;
    const { client, handler } = h.iam();
    const kubernetes = h.kubernetes();
    const run = migrateSeed(
      { iam: new IamAdapter(client), kubernetes: () => kubernetes, progress: () => {} },
      OPTIONS,
    );
    await expect(run).rejects.toThrow(KubernetesForbiddenError);
    await expect(run).rejects.toThrow(
      /list mutatingwebhookconfigurations.admissionregistration.k8s.io at the cluster scope: HTTP 403.*needs a ClusterRole with the rule \{ apiGroups: \["admissionregistration.k8s.io"\], resources: \["mutatingwebhookconfigurations"\], verbs: \["list"\] \}/,
    );
    expect(handler.calls('DeleteRole')).toBe(0);
  });
});
