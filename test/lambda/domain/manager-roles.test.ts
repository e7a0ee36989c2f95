import fc from 'fast-check';
import {
  isProjectTagKey,
  keptManagerRole,
  recogniseManagerRole,
} from '../../../lambda/domain/manager-roles';
import type { ManagerRoleFound } from '../../../lambda/domain/migration-report';
import { quota, seedSpec, serviceAccounts, state } from './planner-arbitraries';
import { plan } from '../../../lambda/domain/planner';
import { serviceAccountSubject } from '../../../lambda/domain/subject';
import { EMPTY_SINCE_TAG, MANAGED_BY_TAG, SEED_TAG } from '../../../lambda/ports/tag-keys';
import { managerTrustPolicy } from '../../support/credential-manager';

const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/Q0ZSA571J0QD87D390GCC678A40480HE';
const PROVIDER = `arn:aws:iam::453903318604:oidc-provider/${ISSUER}`;
// Seed 000, §5.4: KubestashRole-0's trust policy after a backup and a retention Job.
const SEED_000_SUBJECTS = [
  'system:serviceaccount:demo:sample-backup-daemon-demo-session-1778072138',
  'system:serviceaccount:demo:retention-policy-sample-backup-daemon-demo-session-1778072402',
];

const subject = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.stringMatching(/^[a-z][a-z0-9-]{0,40}$/))
  .map(([ns, name]) => serviceAccountSubject(ns, name));

describe('recogniseManagerRole', () => {
  test("the guide's KubestashRole-0 is the manager's, with its subjects", () => {
    const verdict = recogniseManagerRole('KubestashRole', {
      name: 'KubestashRole-0',
      trustPolicy: encodeURIComponent(managerTrustPolicy(ISSUER, PROVIDER, SEED_000_SUBJECTS)),
      tags: [],
    });
    expect(verdict).toEqual({
      manager: true,
      index: 0,
      providerArn: PROVIDER,
      subjects: SEED_000_SUBJECTS,
    });
  });

  test('a role the manager emptied (an empty sub list) is still its', () => {
    const verdict = recogniseManagerRole('KubestashRole', {
      name: 'KubestashRole-3',
      trustPolicy: managerTrustPolicy(ISSUER, PROVIDER, []),
      tags: [{ key: 'team', value: 'backups' }],
    });
    expect(verdict).toMatchObject({ manager: true, index: 3, subjects: [] });
  });

  test.each([
    ['KubestashRole', 'not named KubestashRole-<i>'],
    ['KubestashRole-01', 'not named'],
    ['KubestashRole-backup', 'not named'],
    ['OtherRole-0', 'not named'],
  ])('%s is not a derived role of the seed', (name, reason) => {
    const verdict = recogniseManagerRole('KubestashRole', {
      name,
      trustPolicy: managerTrustPolicy(ISSUER, PROVIDER, SEED_000_SUBJECTS),
      tags: [],
    });
    expect(verdict).toEqual({ manager: false, reason: expect.stringContaining(reason) });
  });

  test("this project's trusts-nobody marker and hand-written documents are not the seed's shape", () => {
    const deny = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
        },
      ],
    });
    const ec2 = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    });
    for (const trustPolicy of [deny, ec2, 'not json']) {
      expect(
        recogniseManagerRole('KubestashRole', { name: 'KubestashRole-1', trustPolicy, tags: [] }),
      ).toEqual({ manager: false, reason: expect.stringContaining('trust policy') });
    }
  });

  test('property: any manager-shaped <seed>-<i> without our tags is recognised with its subjects', () => {
    fc.assert(
      fc.property(
        fc.nat(99),
        fc.uniqueArray(subject, { maxLength: 20 }),
        fc.array(fc.record({ key: fc.stringMatching(/^[a-z]{1,8}$/), value: fc.string() }), {
          maxLength: 3,
        }),
        fc.boolean(),
        (index, subjects, tags, encoded) => {
          const doc = managerTrustPolicy(ISSUER, PROVIDER, subjects);
          const verdict = recogniseManagerRole('KubestashRole', {
            name: `KubestashRole-${index}`,
            trustPolicy: encoded ? encodeURIComponent(doc) : doc,
            tags,
          });
          expect(verdict).toEqual({ manager: true, index, providerArn: PROVIDER, subjects });
        },
      ),
    );
  });

  test('property: any tag of this project makes a role ours, never the manager’s', () => {
    fc.assert(
      fc.property(
        fc.nat(99),
        fc.uniqueArray(subject, { maxLength: 5 }),
        fc.constantFrom(SEED_TAG, MANAGED_BY_TAG, EMPTY_SINCE_TAG),
        (index, subjects, key) => {
          const verdict = recogniseManagerRole('KubestashRole', {
            name: `KubestashRole-${index}`,
            trustPolicy: managerTrustPolicy(ISSUER, PROVIDER, subjects),
            tags: [{ key, value: 'x' }],
          });
          expect(verdict.manager).toBe(false);
        },
      ),
    );
  });

  test("property: no role this project's planner creates is taken for the manager's", () => {
    fc.assert(
      fc.property(
        seedSpec('KubestashRole').chain((seed) =>
          fc.tuple(serviceAccounts([seed], 20), quota).map(([sas, q]) => state([seed], sas, q)),
        ),
        (input) => {
          const planned = plan(input);
          for (const c of planned.creates) {
            const tags = Object.entries(c.tags).map(([key, value]) => ({ key, value }));
            expect(tags.some((t) => isProjectTagKey(t.key))).toBe(true);
            expect(
              recogniseManagerRole(c.seed, { name: c.roleName, trustPolicy: c.trustPolicy, tags })
                .manager,
            ).toBe(false);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  test('the tag test is about the key prefix only', () => {
    expect(isProjectTagKey(MANAGED_BY_TAG)).toBe(true);
    expect(isProjectTagKey('managed-by')).toBe(false);
    expect(isProjectTagKey('kubestash-irsa.io')).toBe(false);
  });
});

describe('keptManagerRole', () => {
  // Two clusters of the seed with their own OIDC providers, and one the seed does not serve.
  const OTHER_ISSUER = 'oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
  const PROVIDERS: Record<string, string | undefined> = {
    prod: PROVIDER,
    dr: `arn:aws:iam::453903318604:oidc-provider/${OTHER_ISSUER}`,
    elsewhere: undefined,
  };
  const STRANGER = 'arn:aws:iam::453903318604:oidc-provider/oidc.example.com/id/X';
  const arnOf = (name: string, path = '/') => `arn:aws:iam::453903318604:role${path}${name}`;
  // Small pools, so annotations, subjects and providers often meet.
  const namespaces = ['demo', 'prod-db'];
  const names = ['session-a', 'session-b', 'session-c'];
  const rawRole = fc.record({
    index: fc.nat(5),
    provider: fc.constantFrom(PROVIDERS.prod as string, PROVIDERS.dr as string, STRANGER),
    subjects: fc.subarray(namespaces.flatMap((ns) => names.map((n) => [ns, n] as const))),
    ours: fc.boolean(),
  });
  const sa = fc.record({
    cluster: fc.constantFrom(...Object.keys(PROVIDERS)),
    namespace: fc.constantFrom(...namespaces),
    name: fc.constantFrom(...names),
    roleArn: fc.option(
      fc.oneof(
        fc.nat(7).map((i) => arnOf(`KubestashRole-${i}`)),
        fc.nat(7).map((i) => arnOf(`KubestashRole-${i}`, '/kubestash-irsa/')),
      ),
      { nil: undefined },
    ),
  });

  test('property: a ServiceAccount is kept iff its annotation names a recognised manager role whose trust lists its subject under its cluster’s provider', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(rawRole, { selector: (r) => r.index, maxLength: 6 }),
        sa,
        (raw, account) => {
          // What a pass hands keptManagerRole: the roles at / that recogniseManagerRole accepts.
          const found: ManagerRoleFound[] = [];
          for (const r of raw) {
            const name = `KubestashRole-${r.index}`;
            const verdict = recogniseManagerRole('KubestashRole', {
              name,
              trustPolicy: managerTrustPolicy(
                // The condition keys name the provider's own issuer, as the seed's do.
                r.provider.split(':oidc-provider/')[1],
                r.provider,
                r.subjects.map(([ns, n]) => `system:serviceaccount:${ns}:${n}`),
              ),
              tags: r.ours ? [{ key: SEED_TAG, value: 'KubestashRole' }] : [],
            });
            if (verdict.manager) {
              found.push({ ...verdict, name, path: '/', arn: arnOf(name) });
            }
          }
          const kept = keptManagerRole(account, (c) => PROVIDERS[c], found);
          // The oracle, straight from the raw roles.
          const expected = raw.find(
            (r) =>
              !r.ours &&
              arnOf(`KubestashRole-${r.index}`) === account.roleArn &&
              PROVIDERS[account.cluster] === r.provider &&
              r.subjects.some(([ns, n]) => ns === account.namespace && n === account.name),
          );
          expect(kept?.name).toBe(
            expected === undefined ? undefined : `KubestashRole-${expected.index}`,
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a ServiceAccount whose role the manager emptied, or that names a role of this project, is not kept', () => {
    const emptied: ManagerRoleFound = {
      name: 'KubestashRole-0',
      index: 0,
      path: '/',
      arn: arnOf('KubestashRole-0'),
      providerArn: PROVIDER,
      subjects: [],
    };
    const account = { cluster: 'prod', namespace: 'demo', name: 'session-a' };
    expect(keptManagerRole({ ...account, roleArn: emptied.arn }, () => PROVIDER, [emptied])).toBe(
      undefined,
    );
    const trusting = { ...emptied, subjects: ['system:serviceaccount:demo:session-a'] };
    expect(keptManagerRole({ ...account, roleArn: trusting.arn }, () => PROVIDER, [trusting])).toBe(
      trusting,
    );
    expect(
      keptManagerRole(
        { ...account, roleArn: arnOf('KubestashRole-0', '/kubestash-irsa/') },
        () => PROVIDER,
        [trusting],
      ),
    ).toBe(undefined);
    expect(keptManagerRole(account, () => PROVIDER, [trusting])).toBe(undefined);
  });
});
