import { IamAdapter } from '../../lambda/adapters/iam/iam-adapter';
import {
  iamWrites as writes,
  MIGRATE_RBAC_RULES,
  runMigrate,
  seedMigrationFixture,
} from '../support/migration-fixture';
import { ReconcileHarness } from '../support/reconcile-harness';

const h = ReconcileHarness.forJest();

const run = (args: string[], options?: { crashAfter?: string }) => runMigrate(h, args, options);

async function roleNames(): Promise<string[]> {
  const { client } = h.iam();
  return (await new IamAdapter(client).listRolesUnderPath('/')).map((r) => r.name).sort();
}

describe('npm run migrate', () => {
  test('dry run reports the manager roles, their subjects, the annotated ServiceAccounts and the webhook, and writes nothing', async () => {
    await seedMigrationFixture(h);
    const { code, out, err, aws } = await run(['--seed', 'KubestashRole']);
    expect(code).toBe(0);
    expect(writes(aws)).toEqual([]);
    expect(err).toContain('dry run');
    expect(err).toContain('leaving KubestashRole-4 alone: carries this project');
    expect(out).toMatch(/KubestashRole-0 +\/ +keep +1 +1 +0 +1/);
    expect(out).toMatch(/KubestashRole-1 +\/ +delete +0 +2 +0 +0/);
    expect(out).toMatch(/KubestashRole-2 +\/ +delete +0 +0 +0 +0/);
    expect(out).toMatch(/KubestashRole-3 +\/ +keep +0 +1 +0 +1/);
    expect(out).not.toMatch(/KubestashRole-4|KubestashRole-backup/);
    expect(out).toContain('live        system:serviceaccount:demo:live-a');
    expect(out).toContain('annotated   prod-cluster/demo/pending');
    expect(out).toContain(
      'MutatingWebhookConfiguration aws-credential-manager still registered in cluster prod-cluster (failurePolicy Fail on mutate-job.aws-credential-manager.kubeops.dev)',
    );
    expect(out).toContain(
      'Summary: 4 role(s) of the manager; 2 with no live subject would be deleted (run again with --apply); 2 kept.',
    );
  });

  test('--apply deletes exactly the roles with nothing live, policies first, and a second run changes nothing', async () => {
    await seedMigrationFixture(h);
    const first = await run(['--seed', 'KubestashRole', '--apply']);
    expect(first.code).toBe(0);
    expect(writes(first.aws)).toEqual([
      'DetachRolePolicy',
      'DeleteRole',
      'DetachRolePolicy',
      'DeleteRole',
    ]);
    expect(await roleNames()).toEqual([
      'KubestashRole',
      'KubestashRole-0',
      'KubestashRole-3',
      'KubestashRole-4',
      'KubestashRole-backup',
    ]);
    expect(first.out).toContain(
      'Summary: 4 role(s) of the manager; deleted 2, skipped 0, failed 0; 2 kept.',
    );

    const second = await run(['--seed', 'KubestashRole', '--apply']);
    expect(second.code).toBe(0);
    expect(writes(second.aws)).toEqual([]);
    expect(second.out).toContain(
      'Summary: 2 role(s) of the manager; deleted 0, skipped 0, failed 0; 2 kept.',
    );
  });

  test('a crash between DetachRolePolicy and DeleteRole is repaired by the next run', async () => {
    await seedMigrationFixture(h);
    const crashed = await run(['--seed', 'KubestashRole', '--apply'], {
      crashAfter: 'DetachRolePolicy',
    });
    expect(crashed.code).toBe(1);
    expect(crashed.out).toContain(
      'failed  KubestashRole-1: simulated crash after DetachRolePolicy',
    );
    // Detached but not deleted: grants nothing, still untagged and manager-shaped.
    const { client } = h.iam();
    const iam = new IamAdapter(client);
    expect(await iam.listAttachedPolicyArns('KubestashRole-1')).toEqual([]);

    const next = await run(['--seed', 'KubestashRole', '--apply']);
    expect(next.code).toBe(0);
    expect(writes(next.aws)).toEqual(['DeleteRole']);
    expect(await roleNames()).not.toContain('KubestashRole-1');
    expect(await roleNames()).toContain('KubestashRole-0');
  });

  test('a ServiceAccount created after the manager trusted it keeps its role', async () => {
    await seedMigrationFixture(h);
    h.server.addServiceAccount({ namespace: 'demo', name: 'app-restore-restore' });
    h.server.deleteServiceAccount('demo', 'pending');
    const { out } = await run(['--seed', 'KubestashRole', '--apply']);
    expect(out).toMatch(/KubestashRole-3 +\/ +keep +1 +0 +0 +0/);
    expect(await roleNames()).toContain('KubestashRole-3');
  });

  test('bad arguments exit 2 with the fix; a seed of another name is looked for in every cluster', async () => {
    expect((await run([])).err).toContain('--seed needs the seed role name');
    expect((await run(['--seed'])).code).toBe(2);
    expect((await run(['--seed', 'KubestashRole', '--force'])).err).toContain(
      'unknown argument --force',
    );
    expect((await run(['--seed', 'KubestashRole', '--manager-path', 'x'])).code).toBe(2);
    h.server.rbacRules = MIGRATE_RBAC_RULES;
    const other = await run(['--seed', 'VeleroRole']);
    expect(other.code).toBe(0);
    expect(other.err).toContain(
      "VeleroRole is not one of this project's seeds (KubestashRole); checking its roles against every configured cluster",
    );
    expect(other.out).toContain('Summary: 0 role(s) of the manager');
  });
});
