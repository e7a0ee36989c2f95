import fc from 'fast-check';
import { migrationReport, subjectNamespaces } from '../../../lambda/domain/migration-report';
import type {
  ExistingServiceAccount,
  ManagerRoleFound,
  MigrationInput,
} from '../../../lambda/domain/migration-report';
import { serviceAccountSubject } from '../../../lambda/domain/subject';

const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/ABCDEF';
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${ISSUER}`;
const OTHER_PROVIDER =
  'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X';
const arn = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

function role(index: number, subjects: string[], providerArn = PROVIDER): ManagerRoleFound {
  const name = `KubestashRole-${index}`;
  return { name, index, path: '/', arn: arn(name), providerArn, subjects };
}

function input(
  roles: ManagerRoleFound[],
  serviceAccounts: ExistingServiceAccount[],
  extra: Partial<MigrationInput> = {},
): MigrationInput {
  return {
    seed: 'KubestashRole',
    roles,
    clusters: [{ name: 'prod', issuer: ISSUER }],
    serviceAccounts,
    webhookConfigurations: [],
    managerWebhookMatch: 'aws-credential-manager',
    ...extra,
  };
}

const sa = (name: string, roleArn?: string): ExistingServiceAccount => ({
  cluster: 'prod',
  namespace: 'demo',
  name,
  ...(roleArn === undefined ? {} : { roleArn }),
});
const sub = (name: string) => serviceAccountSubject('demo', name);

describe('migrationReport', () => {
  test('a role with a live subject is kept, one with only stale subjects is deleted', () => {
    const report = migrationReport(
      input(
        [role(0, [sub('live'), sub('gone-1')]), role(1, [sub('gone-2')]), role(2, [])],
        [sa('live', arn('KubestashRole-0')), sa('unrelated')],
      ),
    );
    expect(report.roles.map((r) => [r.name, r.action, r.live, r.stale, r.annotatedBy])).toEqual([
      ['KubestashRole-0', 'keep', [sub('live')], [sub('gone-1')], ['prod/demo/live']],
      ['KubestashRole-1', 'delete', [], [sub('gone-2')], []],
      ['KubestashRole-2', 'delete', [], [], []],
    ]);
    expect(report.deletable).toEqual(['KubestashRole-1', 'KubestashRole-2']);
  });

  test('a ServiceAccount still annotated with a role keeps it even when the role no longer trusts it', () => {
    const report = migrationReport(
      input([role(0, [sub('gone')])], [sa('waiting', arn('KubestashRole-0'))]),
    );
    expect(report.roles[0]).toMatchObject({ action: 'keep', annotatedBy: ['prod/demo/waiting'] });
  });

  test('subjects that cannot be checked keep their role', () => {
    const report = migrationReport(
      input(
        [
          role(0, [sub('x')], OTHER_PROVIDER),
          role(1, ['system:serviceaccount:demo:*']),
          role(2, ['repo:org/x:ref:refs/heads/main']),
        ],
        [],
      ),
    );
    expect(report.roles.map((r) => [r.action, r.unverifiable.length])).toEqual([
      ['keep', 1],
      ['keep', 1],
      ['keep', 1],
    ]);
    expect(report.deletable).toEqual([]);
  });

  test('roles come in index order, not name order', () => {
    const report = migrationReport(input([role(10, []), role(2, [])], []));
    expect(report.deletable).toEqual(['KubestashRole-2', 'KubestashRole-10']);
  });

  test("the manager's webhook is found by its name or its Service's, with the webhooks that fail closed", () => {
    const report = migrationReport(
      input([], [], {
        webhookConfigurations: [
          {
            cluster: 'prod',
            name: 'aws-credential-manager',
            webhooks: [{ name: 'jobs.aws-credential-manager', failurePolicy: 'Fail' }],
          },
          {
            cluster: 'prod',
            name: 'kubeops-webhooks',
            webhooks: [
              {
                name: 'a',
                failurePolicy: 'Ignore',
                serviceNamespace: 'kubeops',
                serviceName: 'aws-credential-manager-webhook',
              },
            ],
          },
          {
            cluster: 'prod',
            name: 'kubestash-irsa-job-gate',
            webhooks: [{ name: 'gate', failurePolicy: 'Ignore' }],
          },
        ],
      }),
    );
    expect(report.managerWebhooks).toEqual([
      { cluster: 'prod', name: 'aws-credential-manager', failing: ['jobs.aws-credential-manager'] },
      { cluster: 'prod', name: 'kubeops-webhooks', failing: [] },
    ]);
  });

  test('property: a role is deleted exactly when it has no live or unverifiable subject and no annotated ServiceAccount', () => {
    const names = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(names, { maxLength: 4 }), { maxLength: 5 }),
        fc.uniqueArray(names),
        fc.array(fc.tuple(names, fc.nat(5)), { maxLength: 4 }),
        (roleSubjects, existing, annotations) => {
          const roles = roleSubjects.map((s, i) => role(i, s.map(sub)));
          const annotated = new Map(annotations);
          const sas = existing.map((n) => {
            const i = annotated.get(n);
            return sa(n, i === undefined ? undefined : arn(`KubestashRole-${i}`));
          });
          const report = migrationReport(input(roles, sas));
          for (const [i, r] of report.roles.entries()) {
            const live = roleSubjects[i].filter((n) => existing.includes(n));
            const pinned = sas.some((x) => x.roleArn === r.arn);
            expect(r.action).toBe(live.length === 0 && !pinned ? 'delete' : 'keep');
            expect([...r.live, ...r.stale].sort()).toEqual(roleSubjects[i].map(sub).sort());
          }
          expect(report.deletable).toEqual(
            report.roles.filter((r) => r.action === 'delete').map((r) => r.name),
          );
        },
      ),
    );
  });

  test('subjectNamespaces lists each namespace a subject names once', () => {
    expect(
      subjectNamespaces([
        role(0, [sub('a'), serviceAccountSubject('db', 'x'), 'not-a-subject']),
        role(1, [sub('b')]),
      ]),
    ).toEqual(['db', 'demo']);
  });
});
