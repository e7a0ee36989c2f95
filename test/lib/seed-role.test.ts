import { CfnParameter, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ClusterOidcProvider } from '../../lib/cluster-oidc-provider';
import { SeedRole } from '../../lib/seed-role';
import type { SeedRoleProps } from '../../lib/seed-role';
import { newApp } from '../support/example-app';

const ISSUER_A = 'oidc.eks.us-east-1.amazonaws.com/id/AAAA';
const ISSUER_B = 'oidc.eks.us-west-1.amazonaws.com/id/BBBB';

function build(overrides: Partial<SeedRoleProps> = {}, issuers = [ISSUER_A]) {
  const stack = new Stack(newApp(), 'T', { env: { account: '111122223333', region: 'us-east-1' } });
  const providers = issuers.map(
    (issuer, i) =>
      new ClusterOidcProvider(stack, `C${i}`, {
        clusterName: `c${i}`,
        issuerUrl: `https://${issuer}`,
      }),
  );
  const policy = new iam.ManagedPolicy(stack, 'Access', {
    statements: [
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/k'] }),
    ],
  });
  const boundary = new iam.ManagedPolicy(stack, 'Boundary', {
    statements: [
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/k'] }),
    ],
  });
  const seed = new SeedRole(stack, 'Seed', {
    roleName: 'KubestashRole',
    providers,
    operatorNamespace: 'kubestash',
    operatorServiceAccount: 'kubestash-kubestash-operator',
    accessPolicy: policy,
    permissionsBoundary: boundary,
    derivedRolePath: '/kubestash-irsa/',
    roleCreationLimit: '100',
    allowedNamespaces: 'demo prod',
    ...overrides,
  });
  return { stack, seed, template: Template.fromStack(stack) };
}

function trustStatements(template: Template): any[] {
  const roles = template.findResources('AWS::IAM::Role', {
    Properties: { RoleName: 'KubestashRole' },
  });
  return Object.values(roles)[0].Properties.AssumeRolePolicyDocument.Statement;
}

describe('SeedRole', () => {
  test('in pod-identity mode trusts EKS Pod Identity only, for its clusters and namespaces', () => {
    const { template, seed } = build({
      podIdentity: { clusterNames: ['c0'], namespaces: ['demo', 'kubestash'] },
    });
    expect(seed.podIdentity).toBe(true);
    expect(seed.podIdentityClusters).toEqual(['c0']);
    const statements = trustStatements(template);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:RequestTag/eks-cluster-arn': ['arn:aws:eks:us-east-1:111122223333:cluster/c0'],
            'aws:RequestTag/kubernetes-namespace': ['demo', 'kubestash'],
          },
        },
      },
    ]);
    // No OIDC provider is trusted in this mode.
    expect(JSON.stringify(statements)).not.toContain('AssumeRoleWithWebIdentity');
  });

  test('a pod-identity seed without clusters is refused, naming the fix', () => {
    expect(() => build({ podIdentity: { clusterNames: [], namespaces: ['demo'] } })).toThrow(
      /pod-identity seed needs the ARN of at least one EKS cluster/,
    );
  });

  test('trusts only the operator ServiceAccount, with sub and aud keyed by the issuer (seed 000 §1.2)', () => {
    const [statement, ...rest] = trustStatements(build().template);
    expect(rest).toHaveLength(0);
    expect(statement).toEqual({
      Effect: 'Allow',
      Action: 'sts:AssumeRoleWithWebIdentity',
      Principal: { Federated: { Ref: expect.stringMatching(/^C0Provider/) } },
      Condition: {
        StringLike: {
          [`${ISSUER_A}:sub`]: 'system:serviceaccount:kubestash:kubestash-kubestash-operator',
          [`${ISSUER_A}:aud`]: 'sts.amazonaws.com',
        },
      },
    });
  });

  test('one statement per cluster: cross-cluster backup and restore (seed 003)', () => {
    const statements = trustStatements(build({}, [ISSUER_A, ISSUER_B]).template);
    expect(statements).toHaveLength(2);
    expect(statements.map((s) => Object.keys(s.Condition.StringLike).sort())).toEqual([
      [`${ISSUER_A}:aud`, `${ISSUER_A}:sub`],
      [`${ISSUER_B}:aud`, `${ISSUER_B}:sub`],
    ]);
  });

  test('StringEquals when asked', () => {
    const [statement] = trustStatements(build({ conditionOperator: 'StringEquals' }).template);
    expect(Object.keys(statement.Condition)).toEqual(['StringEquals']);
  });

  test('a token issuer is keyed through CfnJson at deploy time', () => {
    const stack = new Stack(newApp(), 'T');
    const imported = new ClusterOidcProvider(stack, 'C', {
      clusterName: 'c',
      providerArn: new CfnParameter(stack, 'ProviderArn', { type: 'String' }).valueAsString,
    });
    const policy = iam.ManagedPolicy.fromManagedPolicyArn(
      stack,
      'P',
      'arn:aws:iam::111122223333:policy/p',
    );
    new SeedRole(stack, 'Seed', {
      roleName: 'S',
      providers: [imported],
      operatorNamespace: 'ns',
      operatorServiceAccount: 'sa',
      accessPolicy: policy,
      permissionsBoundary: policy,
      derivedRolePath: '/p/',
      roleCreationLimit: '1',
      allowedNamespaces: 'ns',
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::AWSCDKCfnJson', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: { StringLike: { 'Fn::GetAtt': [Match.anyValue(), 'Value'] } },
          }),
        ],
      },
    });
  });

  test('a literal issuer needs no custom resource', () => {
    build().template.resourceCountIs('Custom::AWSCDKCfnJson', 0);
  });

  test('carries the access policy, the boundary, the session limit and the settings tags', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'KubestashRole',
      ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('^Access') }],
      PermissionsBoundary: { Ref: Match.stringLikeRegexp('^Boundary') },
      MaxSessionDuration: 3600,
    });
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0];
    const tags = Object.fromEntries(
      role.Properties.Tags.map((t: { Key: string; Value: string }) => [t.Key, t.Value]),
    );
    expect(tags).toEqual({
      'kubestash-irsa.io/role': 'seed',
      'kubestash-irsa.io/managed-by': 'kubestash-irsa',
      'kubestash-irsa.io/derived-role-path': '/kubestash-irsa/',
      'kubestash-irsa.io/role-creation-limit': '100',
      'kubestash-irsa.io/allowed-namespaces': 'demo prod',
    });
  });

  test('derivedRoleArnPattern is confined to the path and the name prefix', () => {
    const { stack, seed } = build();
    expect(stack.resolve(seed.derivedRoleArnPattern())).toBe(
      'arn:aws:iam::111122223333:role/kubestash-irsa/KubestashRole-*',
    );
  });

  test('rejects a missing provider and a shared path', () => {
    expect(() => build({ providers: [] })).toThrow(/at least one cluster OIDC provider/);
    expect(() => build({ derivedRolePath: '/' })).toThrow(/dedicated IAM path/);
    expect(() => build({ derivedRolePath: 'kubestash/' })).toThrow(/starts and ends with "\/"/);
  });
});
