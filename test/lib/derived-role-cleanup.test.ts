import { synthExampleStack } from '../support/example-app';

describe('DerivedRoleCleanup', () => {
  const { template } = synthExampleStack();
  const json = template.toJSON() as {
    Resources: Record<string, { Type: string; DependsOn?: string[]; Properties: any }>;
  };
  const [cleanupId, cleanup] =
    Object.entries(json.Resources).find(([, r]) => r.Type === 'Custom::DerivedRoleCleanup') ?? [];

  test('names each seed with its derived-role path', () => {
    expect(cleanup?.Properties.Seeds).toEqual([
      { name: 'KubestashRole', path: '/kubestash-irsa/' },
    ]);
  });

  test('is deleted before the policies the derived roles still hold', () => {
    const dependsOn = cleanup?.DependsOn ?? [];
    expect(dependsOn.some((d) => d.startsWith('KubestashRoleAccessPolicy'))).toBe(true);
    expect(dependsOn.some((d) => d.startsWith('KubestashRoleBoundaryPolicy'))).toBe(true);
    expect(cleanupId).toBeDefined();
  });

  test('may delete only derived roles that carry the seed tag', () => {
    const statements = Object.values(json.Resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties.Roles).includes('DerivedRoleCleanup'),
      )
      .flatMap((r) => r.Properties.PolicyDocument.Statement);
    const del = statements.find((s: { Action: unknown }) =>
      JSON.stringify(s.Action).includes('iam:DeleteRole'),
    );
    expect(del).toMatchObject({
      Action: expect.arrayContaining(['iam:DetachRolePolicy', 'iam:DeleteRole']),
      Resource: 'arn:aws:iam::111122223333:role/kubestash-irsa/KubestashRole-*',
    });
    // The seed tag alone could be put on a foreign role; the boundary cannot.
    expect(del.Condition).toEqual({
      StringEquals: {
        'iam:ResourceTag/kubestash-irsa.io/seed': 'KubestashRole',
        'iam:PermissionsBoundary': { Ref: expect.stringMatching(/^KubestashRoleBoundary/) },
      },
    });
    const actions = statements.flatMap((s: { Action: string | string[] }) =>
      Array.isArray(s.Action) ? s.Action : [s.Action],
    );
    expect(actions.sort()).toEqual(
      [
        'iam:DeleteRole',
        'iam:DetachRolePolicy',
        'iam:ListAttachedRolePolicies',
        'iam:ListRoles',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ].sort(),
    );
  });
});
