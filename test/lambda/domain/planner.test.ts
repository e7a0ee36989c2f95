import { applyPlan } from '../../../lambda/domain/apply-plan';
import type { PlanInput, SeedSpec, ServiceAccountState } from '../../../lambda/domain/plan-types';
import { plan } from '../../../lambda/domain/planner';
import { policySize } from '../../../lambda/domain/policy-size';
import { parseTrustPolicy } from '../../../lambda/domain/trust-policy';

const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/Q0ZSA571J0QD87D390GCC678A40480HE';
const DR_ISSUER = 'oidc.eks.us-west-2.amazonaws.com/id/6895F1604286AE3EB02EFD39CAC4E288';
const SEED: SeedSpec = {
  name: 'KubestashRole',
  arn: 'arn:aws:iam::453903318604:role/KubestashRole',
  path: '/kubestash-irsa/',
  conditionOperator: 'StringLike',
  roleCreationLimit: 100,
  clusters: [
    {
      name: 'prod',
      issuer: ISSUER,
      providerArn: `arn:aws:iam::453903318604:oidc-provider/${ISSUER}`,
    },
    {
      name: 'dr',
      issuer: DR_ISSUER,
      providerArn: `arn:aws:iam::453903318604:oidc-provider/${DR_ISSUER}`,
    },
  ],
};
const ROLE_0 = 'arn:aws:iam::453903318604:role/kubestash-irsa/KubestashRole-0';

function sa(name: string, extra: Partial<ServiceAccountState> = {}): ServiceAccountState {
  return { cluster: 'prod', namespace: 'demo', name, seedRole: SEED.arn, ...extra };
}

function input(serviceAccounts: ServiceAccountState[], extra: Partial<PlanInput> = {}): PlanInput {
  return {
    seeds: [SEED],
    allowedNamespaces: ['demo'],
    emptyRoleGracePeriodSeconds: 3600,
    now: '2026-05-06T12:55:49.000Z',
    roles: [],
    serviceAccounts,
    ...extra,
  };
}

const sessions = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) =>
    sa(`sample-backup-daemon-demo-session-${1778072138 + from + i}`),
  );

function subjectsOf(state: PlanInput, role: string): readonly string[] {
  const found = state.roles.find((r) => r.name === role);
  if (found === undefined) return [];
  return [...parseTrustPolicy(found.trustPolicy).grants.values()].flat();
}

describe('planner, by example', () => {
  test('seed 000: the first backup creates KubestashRole-0; the next ones join it with one write each', () => {
    const first = input([sa('sample-backup-daemon-demo-session-1778072138')]);
    const p1 = plan(first);
    expect(p1.creates.map((c) => c.roleName)).toEqual(['KubestashRole-0']);
    expect(p1.creates[0].tags).toEqual({
      'kubestash-irsa.io/seed': 'KubestashRole',
      'kubestash-irsa.io/managed-by': 'kubestash-irsa',
    });
    expect(p1.assignments).toEqual([expect.objectContaining({ roleArn: ROLE_0, annotate: true })]);

    let state = applyPlan(first, p1);
    state = {
      ...state,
      serviceAccounts: [
        ...state.serviceAccounts,
        sa('retention-policy-sample-backup-daemon-demo-session-1778072402'),
        sa('app-restore-restore'),
      ],
    };
    const p2 = plan(state);
    expect(p2.creates).toEqual([]);
    expect(p2.updates.map((u) => u.roleName)).toEqual(['KubestashRole-0']);
    expect(
      p2.assignments
        .filter((a) => a.annotate)
        .map((a) => a.name)
        .sort(),
    ).toEqual([
      'app-restore-restore',
      'retention-policy-sample-backup-daemon-demo-session-1778072402',
    ]);
    expect(subjectsOf(applyPlan(state, p2), 'KubestashRole-0')).toHaveLength(3);
  });

  test('a burst of 50 ServiceAccounts costs one write per role', () => {
    const p = plan(input(sessions(50)));
    expect(p.creates.map((c) => c.roleName)).toEqual([
      'KubestashRole-0',
      'KubestashRole-1',
      'KubestashRole-2',
    ]);
    expect(p.updates).toEqual([]);
    expect(p.assignments).toHaveLength(50);
    for (const c of p.creates) expect(policySize(c.trustPolicy)).toBeLessThanOrEqual(2048);
  });

  test('freed slots are reused before a new role is made, and granted subjects stay put', () => {
    const state = applyPlan(input(sessions(50)), plan(input(sessions(50))));
    const leaving = subjectsOf(state, 'KubestashRole-0')[0];
    const gone = state.serviceAccounts.filter(
      (s) => `system:serviceaccount:demo:${s.name}` !== leaving,
    );
    const next = { ...state, serviceAccounts: [...gone, ...sessions(1, 1000)] };
    const p = plan(next);
    expect(p.creates).toEqual([]);
    expect(p.updates.map((u) => u.roleName)).toEqual(['KubestashRole-0']);
    const after = applyPlan(next, p);
    for (const role of ['KubestashRole-1', 'KubestashRole-2'])
      expect(subjectsOf(after, role)).toEqual(subjectsOf(state, role));
  });

  test('at the creation limit, new subjects are refused with what to do, and nothing else changes', () => {
    const limited = { ...SEED, roleCreationLimit: 1 };
    const p = plan(input(sessions(30), { seeds: [limited] }));
    expect(p.creates).toHaveLength(1);
    const refused = p.refusals.filter((r) => r.reason === 'DerivedRoleLimitReached');
    expect(refused.length).toBe(30 - p.assignments.length);
    expect(refused[0].message).toMatch(
      /limit of 1 derived roles.*KubestashRoleRoleCreationLimit.*L-C07B4B0D/,
    );
  });

  test('refusals name the namespace, the seed or the cluster, and the fix', () => {
    const p = plan(
      input([
        sa('a', { namespace: 'kube-system' }),
        sa('b', { seedRole: 'arn:aws:iam::453903318604:role/AdminRole' }),
        sa('c', { cluster: 'staging' }),
      ]),
    );
    const byName = [...p.refusals].sort((x, y) => x.name.localeCompare(y.name));
    expect(byName.map((r) => [r.name, r.reason])).toEqual([
      ['a', 'NamespaceNotAllowed'],
      ['b', 'SeedRoleNotAllowed'],
      ['c', 'ClusterNotAllowed'],
    ]);
    expect(byName[0].message).toMatch(
      /"kube-system" may not receive roles of seed KubestashRole \(allowed: demo\).*KubestashRoleAllowedNamespaces/,
    );
    expect(byName[1].message).toMatch(
      /names "arn:aws:iam::453903318604:role\/AdminRole", which is not a configured seed/,
    );
    expect(byName[2].message).toMatch(/does not serve cluster "staging".*add the cluster/);
    expect(p.creates).toEqual([]);
  });

  test('a role left empty trusts nobody, is marked, and is deleted only after the grace period', () => {
    const granted = applyPlan(input(sessions(2)), plan(input(sessions(2))));
    const emptied = { ...granted, serviceAccounts: [] };
    const p1 = plan(emptied);
    expect(p1.updates).toEqual([
      expect.objectContaining({
        roleName: 'KubestashRole-0',
        setTags: { 'kubestash-irsa.io/empty-since': emptied.now },
      }),
    ]);
    expect(parseTrustPolicy(p1.updates[0].trustPolicy ?? '').emptyMarker).toBe(true);
    const marked = applyPlan(emptied, p1);
    const within = plan({ ...marked, now: '2026-05-06T13:30:00.000Z' });
    expect([within.updates, within.deletes]).toEqual([[], []]);
    const past = plan({ ...marked, now: '2026-05-06T13:56:00.000Z' });
    expect(past.deletes).toEqual([{ seed: 'KubestashRole', roleName: 'KubestashRole-0' }]);
    // A newcomer before the deadline revives the role instead, clearing the mark.
    const revived = plan({ ...marked, serviceAccounts: sessions(1, 500) });
    expect(revived.deletes).toEqual([]);
    expect(revived.updates).toEqual([
      expect.objectContaining({
        roleName: 'KubestashRole-0',
        removeTags: ['kubestash-irsa.io/empty-since'],
      }),
    ]);
  });

  test('a ServiceAccount annotated with a role that lost its subject goes back into that role', () => {
    const state = applyPlan(input(sessions(25)), plan(input(sessions(25))));
    const name = state.serviceAccounts[24].name;
    const arn = state.serviceAccounts[24].roleArn;
    const stripped = {
      ...state,
      roles: state.roles.map((r) => ({
        ...r,
        trustPolicy: encodeURIComponent(
          decodeURIComponent(r.trustPolicy)
            .replace(`"system:serviceaccount:demo:${name}",`, '')
            .replace(`,"system:serviceaccount:demo:${name}"`, ''),
        ),
      })),
    };
    const p = plan(stripped);
    expect(p.assignments.find((a) => a.name === name)).toMatchObject({
      roleArn: arn,
      annotate: false,
    });
  });

  test('several clusters share a role, one statement each', () => {
    const p = plan(input([sa('a'), sa('a', { cluster: 'dr' })]));
    expect(p.creates).toHaveLength(1);
    const doc = JSON.parse(p.creates[0].trustPolicy);
    expect(doc.Statement).toHaveLength(2);
  });

  test('compact mode grants a whole namespace with one entry', () => {
    const p = plan(input(sessions(40), { seeds: [{ ...SEED, compactNamespaces: ['demo'] }] }));
    expect(p.creates).toHaveLength(1);
    expect(
      parseTrustPolicy(p.creates[0].trustPolicy).grants.get(SEED.clusters[0].providerArn),
    ).toEqual(['system:serviceaccount:demo:*']);
    expect(new Set(p.assignments.map((a) => a.roleName))).toEqual(new Set(['KubestashRole-0']));
  });

  test('a lowered quota moves the overflow, keeping every document within it', () => {
    const big = input(sessions(100), { quota: 8192 });
    const state = applyPlan(big, plan(big));
    const p = plan({ ...state, quota: 2048 });
    expect(
      p.notes.some((n) =>
        /KubestashRole-0 exceeded the 2048-character quota; moved \d+ subject/.test(n),
      ),
    ).toBe(true);
    for (const w of [...p.creates, ...p.updates])
      expect(policySize(w.trustPolicy ?? '')).toBeLessThanOrEqual(2048);
  });

  test('a hand-edited role is repaired, with a note', () => {
    const state = applyPlan(input(sessions(2)), plan(input(sessions(2))));
    const doc = JSON.parse(decodeURIComponent(state.roles[0].trustPolicy));
    doc.Statement.push({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' });
    const p = plan({ ...state, roles: [{ ...state.roles[0], trustPolicy: JSON.stringify(doc) }] });
    expect(p.updates).toHaveLength(1);
    expect(parseTrustPolicy(p.updates[0].trustPolicy ?? '').unrecognized).toEqual([]);
    expect(p.notes[0]).toMatch(/KubestashRole-0: repairing a hand-edited trust policy/);
  });

  test('roles that are not derived roles of the seed are never touched', () => {
    const foreign = [
      {
        name: 'KubestashRole-backup',
        path: '/kubestash-irsa/',
        trustPolicy: 'garbage',
        tags: {},
        createDate: '',
      },
      {
        name: 'KubestashRole-3',
        path: '/other/',
        trustPolicy: 'garbage',
        tags: {},
        createDate: '',
      },
    ];
    const p = plan(input([], { roles: foreign }));
    expect([p.creates, p.updates, p.deletes, p.roles]).toEqual([[], [], [], []]);
  });
});

/** Layouts real IAM refuses or never honours (issue 11). */
describe('planner, IAM layout', () => {
  const ONE_CLUSTER: SeedSpec = { ...SEED, clusters: [SEED.clusters[0]] };

  test('a role-creation limit past 64-character names is capped, refusing with DerivedRoleLimitReached', () => {
    // IAM: role names have at most 64 characters (reference_iam-quotas.html); moto accepts longer.
    const name = 'R'.repeat(62); // `<62>-9` is 64 characters, `<62>-10` would be 65
    const seed = { ...ONE_CLUSTER, name, arn: `arn:aws:iam::453903318604:role/${name}` };
    const many = Array.from({ length: 400 }, (_, i) =>
      sa(`backup-session-${1778072138 + i}`, { seedRole: seed.arn }),
    );
    const p = plan(input(many, { seeds: [{ ...seed, roleCreationLimit: 1000 }] }));
    expect(p.creates).toHaveLength(10);
    expect(Math.max(...p.creates.map((c) => c.roleName.length))).toBe(64);
    expect(p.refusals.length).toBeGreaterThan(0);
    expect(p.refusals[0]).toMatchObject({
      reason: 'DerivedRoleLimitReached',
      message: expect.stringContaining(`may have only 10 derived roles`),
    });
  });

  test('a derived name taken by a role the seed does not own is skipped, in any case and at any path', () => {
    // IAM role names are unique in the account ignoring case and path (reference_identifiers.html).
    const p = plan(
      input(sessions(60), {
        seeds: [ONE_CLUSTER],
        foreignRoleNames: ['kubestashrole-0', 'KubestashRole-backup'],
        roles: [
          {
            name: 'KubestashRole-1',
            path: '/hand-made/',
            trustPolicy: '{}',
            tags: {},
            createDate: '',
          },
        ],
      }),
    );
    expect(p.creates.map((c) => c.roleName)).toEqual([
      'KubestashRole-2',
      'KubestashRole-3',
      'KubestashRole-4',
    ]);
    expect(p.notes).toEqual(
      expect.arrayContaining([
        expect.stringContaining('KubestashRole-0 is taken by the role kubestashrole-0'),
        expect.stringContaining('KubestashRole-1 is taken by the role KubestashRole-1'),
      ]),
    );
  });

  test('taken names count against the limit, and the refusal names them', () => {
    const p = plan(
      input(sessions(60), {
        seeds: [{ ...ONE_CLUSTER, roleCreationLimit: 2 }],
        foreignRoleNames: ['KUBESTASHROLE-0'],
      }),
    );
    expect(p.creates.map((c) => c.roleName)).toEqual(['KubestashRole-1']);
    expect(p.refusals[0].message).toContain('KUBESTASHROLE-0, not its own, takes a derived name');
  });

  test('aws-credential-manager’s roles that hold derived names: the refusal says migrate --apply frees them, and rename for the others', () => {
    const p = plan(
      input(sessions(90), {
        seeds: [{ ...ONE_CLUSTER, roleCreationLimit: 3 }],
        foreignRoleNames: [
          'KubestashRole-0',
          'KubestashRole-1',
          'other-KubestashRole-x',
          'KUBESTASHROLE-2',
        ],
        managerRoleNames: ['KubestashRole-0', 'KubestashRole-1'],
      }),
    );
    expect(p.creates).toEqual([]);
    const message = p.refusals[0].message;
    expect(message).toContain(
      'KubestashRole-0, KubestashRole-1 of aws-credential-manager hold derived names: `npm run migrate -- --seed KubestashRole --apply`',
    );
    expect(message).toContain('KUBESTASHROLE-2, not its own, takes a derived name');
    expect(message).not.toContain('KubestashRole-0, not its own');
  });

  // AWS's own IRSA example splits aud (StringEquals) and sub (StringLike) in one statement:
  // https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
  test.each([
    ['the AWS-documentation form', 'split'],
    ['an Action list with sts:TagSession', 'tag-session'],
    ['ForAnyValue:StringLike', 'for-any-value'],
  ])(
    'subjects under %s stay in the role that holds them; the statement is repaired in place',
    (_name, form) => {
      const provider = SEED.clusters[0];
      const held = sessions(3).map((s) => `system:serviceaccount:demo:${s.name}`);
      const sub = { [`${provider.issuer}:sub`]: held };
      const aud = { [`${provider.issuer}:aud`]: 'sts.amazonaws.com' };
      const statement = {
        Effect: 'Allow',
        Principal: { Federated: provider.providerArn },
        Action:
          form === 'tag-session'
            ? ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession']
            : 'sts:AssumeRoleWithWebIdentity',
        Condition:
          form === 'split'
            ? { StringEquals: aud, StringLike: sub }
            : form === 'for-any-value'
              ? { 'ForAnyValue:StringLike': { ...sub, ...aud } }
              : { StringLike: { ...sub, ...aud } },
      };
      const role = {
        name: 'KubestashRole-0',
        path: '/kubestash-irsa/',
        trustPolicy: encodeURIComponent(
          JSON.stringify({ Version: '2012-10-17', Statement: [statement] }),
        ),
        tags: {},
        createDate: '',
      };
      // Not annotated yet (the run that granted them stopped before annotating).
      const p = plan(input(sessions(3), { roles: [role] }));
      expect(p.creates).toEqual([]);
      expect(p.assignments.map((a) => a.roleArn)).toEqual([ROLE_0, ROLE_0, ROLE_0]);
      expect(p.updates).toHaveLength(1);
      const repaired = parseTrustPolicy(p.updates[0].trustPolicy ?? '');
      expect(repaired.unrecognized).toEqual([]);
      expect(repaired.grants.get(provider.providerArn)).toEqual([...held].sort());
    },
  );

  test('two clusters are packed as if alone: each role holds one cluster’s statement, save the folded tails', () => {
    // 400 ServiceAccounts split over two clusters: first fit used to open both
    // statements in every role (28 roles where 21 do).
    const both = Array.from({ length: 400 }, (_, i) =>
      sa(`sample-backup-daemon-demo-session-${1778072138 + i}`, {
        cluster: i % 2 === 0 ? 'prod' : 'dr',
      }),
    );
    const p = plan(input(both));
    const alone = SEED.clusters
      .map(
        (c) =>
          plan(
            input(
              both.filter((s) => s.cluster === c.name),
              { seeds: [{ ...SEED, clusters: [c] }] },
            ),
          ).creates.length,
      )
      .reduce((a, n) => a + n, 0);
    expect(p.creates.length).toBeLessThanOrEqual(alone);
    const mixed = p.creates.filter((c) => JSON.parse(c.trustPolicy).Statement.length > 1);
    expect(mixed.length).toBeLessThanOrEqual(1);
    expect(p.creates.map((c) => c.roleName)).toEqual(p.creates.map((_, i) => `KubestashRole-${i}`));
  });
});
