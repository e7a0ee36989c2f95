import { Match } from 'aws-cdk-lib/assertions';
import { DERIVED_ROLE_WRITE_ACTIONS } from '../../lib/reconciler-role';
import { addSeeds, synthExampleStack } from '../support/example-app';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const DERIVED = 'arn:aws:iam::111122223333:role/kubestash-irsa/KubestashRole-*';
const BOUNDARY = { Ref: expect.stringMatching(/^KubestashRoleBoundary/) as unknown };
const OWNED = {
  'iam:ResourceTag/kubestash-irsa.io/seed': 'KubestashRole',
  'iam:PermissionsBoundary': BOUNDARY,
};
const TAG_KEYS = [
  'kubestash-irsa.io/seed',
  'kubestash-irsa.io/managed-by',
  'kubestash-irsa.io/empty-since',
];

function reconcilerStatements(modify?: Parameters<typeof synthExampleStack>[0]): Statement[] {
  const { template } = synthExampleStack(modify);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) =>
      p.Properties.Roles.some((r: { Ref: string }) => r.Ref.startsWith('ReconcilerRole')),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const asList = (a: string | string[]) => (Array.isArray(a) ? a : [a]);

describe('ReconcilerRole', () => {
  const statements = reconcilerStatements();
  const bySid = (sid: string) => {
    const found = statements.find((s) => s.Sid === sid);
    if (found === undefined)
      throw new Error(`no statement ${sid} in ${statements.map((s) => s.Sid).join(', ')}`);
    return found;
  };

  test('is assumed by Lambda only', () => {
    const { template } = synthExampleStack();
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('reconciler'),
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'lambda.amazonaws.com' },
          },
        ],
      },
    });
  });

  test('has neither iam:PutRolePolicy nor iam:PassRole nor any wildcard action', () => {
    const all = statements.flatMap((s) => asList(s.Action));
    expect(all).not.toContain('iam:PutRolePolicy');
    expect(all).not.toContain('iam:PassRole');
    expect(all.filter((a) => a.includes('*'))).toEqual([]);
    expect(statements.filter((s) => s.Effect !== 'Allow').map((s) => s.Sid)).toEqual([
      'DenyDerivedRoleSubPathsKubestashRole',
    ]);
  });

  test('creates roles only under the derived path and name prefix, with the boundary and the seed tags', () => {
    const create = bySid('CreateDerivedRolesKubestashRole');
    expect(create.Action).toBe('iam:CreateRole');
    expect(create.Resource).toEqual(DERIVED);
    expect(create.Condition).toEqual({
      StringEquals: {
        'iam:PermissionsBoundary': BOUNDARY,
        'aws:RequestTag/kubestash-irsa.io/seed': 'KubestashRole',
        'aws:RequestTag/kubestash-irsa.io/managed-by': 'kubestash-irsa',
      },
      'ForAllValues:StringEquals': { 'aws:TagKeys': TAG_KEYS },
    });
  });

  test('denies every write under a sub-path of the derived path (IAM’s * also matches /)', () => {
    const deny = bySid('DenyDerivedRoleSubPathsKubestashRole');
    expect(deny.Effect).toBe('Deny');
    expect(deny.Resource).toBe(`${DERIVED}/*`);
    expect(asList(deny.Action).sort()).toEqual([...DERIVED_ROLE_WRITE_ACTIONS].sort());
    expect(deny.Condition).toBeUndefined();
  });

  test('tags with the seed’s tags only a role that has no seed tag yet (CreateRole’s tag-on-create)', () => {
    const tag = bySid('TagNewDerivedRolesKubestashRole');
    expect(tag.Action).toBe('iam:TagRole');
    expect(tag.Resource).toEqual(DERIVED);
    expect(tag.Condition).toEqual({
      Null: { 'iam:ResourceTag/kubestash-irsa.io/seed': 'true' },
      StringEquals: {
        'aws:RequestTag/kubestash-irsa.io/seed': 'KubestashRole',
        'aws:RequestTag/kubestash-irsa.io/managed-by': 'kubestash-irsa',
      },
      'ForAllValues:StringEquals': { 'aws:TagKeys': TAG_KEYS },
    });
  });

  test('on roles that carry the seed tag, tags and untags only the empty-since marker', () => {
    const mark = bySid('MarkDerivedRolesKubestashRole');
    expect(asList(mark.Action).sort()).toEqual(['iam:TagRole', 'iam:UntagRole']);
    expect(mark.Condition).toEqual({
      StringEquals: { 'iam:ResourceTag/kubestash-irsa.io/seed': 'KubestashRole' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['kubestash-irsa.io/empty-since'] },
    });
  });

  test('attaches only the seed’s own policy (iam:PolicyARN) to roles with the seed tag and boundary', () => {
    const attach = bySid('AttachSeedPolicyKubestashRole');
    expect(attach.Action).toBe('iam:AttachRolePolicy');
    expect(attach.Resource).toEqual(DERIVED);
    expect(attach.Condition).toEqual({
      ArnEquals: {
        'iam:PolicyARN': [{ Ref: expect.stringMatching(/^KubestashRoleAccessPolicy/) }],
      },
      StringEquals: OWNED,
    });
  });

  test('re-trusts, detaches and deletes only derived roles with the seed tag and boundary', () => {
    const manage = bySid('ManageDerivedRolesKubestashRole');
    expect(asList(manage.Action).sort()).toEqual([
      'iam:DeleteRole',
      'iam:DetachRolePolicy',
      'iam:UpdateAssumeRolePolicy',
    ]);
    expect(manage.Resource).toEqual(DERIVED);
    expect(manage.Condition).toEqual({ StringEquals: OWNED });
  });

  test('reads the seed and derived roles (with their tags), and nothing else by name', () => {
    const read = bySid('ReadSeedAndDerivedRolesKubestashRole');
    expect(asList(read.Action).sort()).toEqual([
      'iam:GetRole',
      'iam:ListAttachedRolePolicies',
      'iam:ListRoleTags',
    ]);
    expect(read.Resource).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [expect.stringMatching(/^KubestashRoleSeedRole/), 'Arn'] },
        DERIVED,
      ]),
    );
    expect(read.Resource).toHaveLength(2);
  });

  test('only ListRoles and GetAccountSummary are on "*"', () => {
    const star = statements.filter((s) => asList(s.Resource as string).includes('*'));
    expect(star.flatMap((s) => asList(s.Action)).sort()).toEqual([
      'iam:GetAccountSummary',
      'iam:ListRoles',
    ]);
  });

  test('describes only the configured clusters', () => {
    const statements2 = reconcilerStatements((c) => {
      c.clusters.push({
        name: 'dr-cluster',
        oidcIssuerUrl: 'https://oidc.eks.us-west-2.amazonaws.com/id/DR',
      });
    });
    const describe = statements2.find((s) => s.Sid === 'DescribeClusters');
    expect(describe?.Action).toBe('eks:DescribeCluster');
    expect(JSON.stringify(describe?.Resource)).toContain(':cluster/prod-cluster');
    expect(JSON.stringify(describe?.Resource)).toContain(':cluster/dr-cluster');
  });

  test('each seed gets its own scoped statements', () => {
    const two = reconcilerStatements((c) => {
      addSeeds(c, {
        name: 'VeleroRole',
        accessPolicy: 'velero',
        derivedRolePath: '/velero-irsa/',
      });
    });
    const create = two.find((s) => s.Sid === 'CreateDerivedRolesVeleroRole');
    expect(JSON.stringify(create?.Resource)).toContain(':role/velero-irsa/VeleroRole-*');
  });
});
