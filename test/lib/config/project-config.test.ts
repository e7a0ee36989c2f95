import { ConfigError, loadConfig } from '../../../lib/config';
import type { ProjectConfigInput } from '../../../lib/config';
import { exampleConfigInput } from '../../support/example-app';

type Mutable = Record<string, any>;

function errorFor(modify: (c: Mutable) => void): ConfigError {
  const input = exampleConfigInput() as Mutable;
  modify(input);
  try {
    loadConfig({ config: input as ProjectConfigInput });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected the config to be rejected');
}

describe('project config', () => {
  test('the example in cdk.json is valid and gets its defaults', () => {
    const config = loadConfig({ config: exampleConfigInput() });
    expect(config.seeds[0]).toMatchObject({
      name: 'KubestashRole',
      derivedRolePath: '/kubestash-irsa/',
      roleCreationLimit: 100,
      maxSessionDurationSeconds: 3600,
      subjectMatch: 'StringLike',
      secretArns: [],
    });
    expect(config.bucket).toMatchObject({
      existing: false,
      accessLogging: true,
      accessCheckExpirationDays: 1,
    });
    expect(config.kubernetes.reconcilerGroup).toBe('kubestash-irsa:reconciler');
  });

  // Each case: the change, the field the message must name, the value it must show, and words of the fix.
  const cases: [string, (c: Mutable) => void, string, string, string][] = [
    [
      'account with letters',
      (c) => (c.account = '12345678901x'),
      'config.account',
      '"12345678901x"',
      '12 digits',
    ],
    ['region typo', (c) => (c.region = 'us-east1'), 'config.region', '"us-east1"', 'us-east-1'],
    ['no clusters', (c) => (c.clusters = []), 'config.clusters', '[]', 'at least one EKS cluster'],
    [
      'cluster with both issuer and provider ARN',
      (c) =>
        (c.clusters[0].oidcProviderArn =
          'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X'),
      'config.clusters.0',
      'prod-cluster',
      'exactly one of oidcIssuerUrl',
    ],
    [
      'issuer over http',
      (c) => (c.clusters[0].oidcIssuerUrl = 'http://oidc.eks.us-east-1.amazonaws.com/id/X'),
      'config.clusters.0.oidcIssuerUrl',
      '"http://oidc.eks.us-east-1.amazonaws.com/id/X"',
      'aws eks describe-cluster',
    ],
    [
      'bucket name in capitals',
      (c) => (c.bucket.name = 'My_Bucket'),
      'config.bucket.name',
      '"My_Bucket"',
      'lowercase',
    ],
    [
      'prefix with slashes',
      (c) => (c.bucket.prefix = '/backups/'),
      'config.bucket.prefix',
      '"/backups/"',
      'without leading or trailing',
    ],
    [
      'unknown encryption',
      (c) => (c.bucket.encryption = 'aes'),
      'config.bucket.encryption',
      '"aes"',
      's3-managed',
    ],
    [
      'KMS key without kms encryption',
      (c) => (c.bucket.kmsKeyArn = 'arn:aws:kms:us-east-1:111122223333:key/abcd-1234'),
      'config.bucket.kmsKeyArn',
      'arn:aws:kms',
      'set encryption to "kms"',
    ],
    [
      'seed name too long for its derived roles',
      (c) => (c.seeds[0].name = 'R'.repeat(62)),
      'config.seeds.0.name',
      'RRRR',
      'at most 61 characters',
    ],
    [
      'seed name with a space',
      (c) => (c.seeds[0].name = 'Kube Role'),
      'config.seeds.0.name',
      '"Kube Role"',
      '+=,.@_-',
    ],
    [
      'derived roles at the root path',
      (c) => (c.seeds[0].derivedRolePath = '/'),
      'config.seeds.0.derivedRolePath',
      '"/"',
      'dedicated path',
    ],
    [
      'path without trailing slash',
      (c) => (c.seeds[0].derivedRolePath = '/kubestash'),
      'config.seeds.0.derivedRolePath',
      '"/kubestash"',
      'begins and ends with "/"',
    ],
    [
      'role limit above the account default',
      (c) => (c.seeds[0].roleCreationLimit = 5000),
      'config.seeds.0.roleCreationLimit',
      '5000',
      'quota increase',
    ],
    [
      'fractional limit',
      (c) => (c.seeds[0].roleCreationLimit = 1.5),
      'config.seeds.0.roleCreationLimit',
      '1.5',
      'whole number',
    ],
    [
      'session too long',
      (c) => (c.seeds[0].maxSessionDurationSeconds = 100000),
      'config.seeds.0.maxSessionDurationSeconds',
      '100000',
      '3600 to 43200',
    ],
    [
      'unknown preset',
      (c) => (c.seeds[0].accessPolicy = 'admin'),
      'config.seeds.0.accessPolicy',
      '"admin"',
      'kubestash, velero, database-dump',
    ],
    [
      'dump preset without secrets',
      (c) => (c.seeds[0].accessPolicy = 'database-dump'),
      'config.seeds.0.secretArns',
      'got nothing',
      'Secrets Manager secret ARNs',
    ],
    [
      'seed naming an unknown cluster',
      (c) => (c.seeds[0].clusters = ['staging']),
      'config.seeds.0.clusters.0',
      '"staging"',
      'use one of prod-cluster',
    ],
    [
      'operator namespace in capitals',
      (c) => (c.seeds[0].operator = { namespace: 'KubeStash' }),
      'config.seeds.0.operator.namespace',
      '"KubeStash"',
      'lowercase',
    ],
    [
      'no allowed namespaces',
      (c) => (c.allowedNamespaces = []),
      'config.allowedNamespaces',
      '[]',
      'e.g. ["demo"]',
    ],
    [
      'namespace too long',
      (c) => (c.allowedNamespaces = ['n'.repeat(64)]),
      'config.allowedNamespaces.0',
      'nnnn',
      'at most 63',
    ],
    [
      'duplicate namespaces',
      (c) => (c.allowedNamespaces = ['demo', 'demo']),
      'config.allowedNamespaces.1',
      '"demo"',
      'appears twice',
    ],
    [
      'seeds that collide as CloudFormation names',
      (c) => (c.seeds = [{ name: 'Kube-Role' }, { name: 'KubeRole' }]),
      'config.seeds.1',
      'KubeRole',
      'letters and digits',
    ],
    ['misspelled field', (c) => (c.bucket.prefx = 'x'), 'config.bucket', 'prefx', 'prefx'],
    [
      'boundary that is not a policy',
      (c) => (c.permissionsBoundaryArn = 'arn:aws:iam::111122223333:role/x'),
      'config.permissionsBoundaryArn',
      'role/x',
      'managed policy ARN',
    ],
  ];

  test.each(cases)(
    'rejects %s, naming the field, the value and the fix',
    (_name, modify, field, value, fix) => {
      const error = errorFor(modify);
      const line = error.problems.find((p) => p.startsWith(`${field}:`));
      expect(line).toBeDefined();
      expect(line).toContain(value);
      expect(line).toContain(fix);
      expect(error.message).toContain('cdk.json');
    },
  );

  test('a long seed name fits when the limit is lowered', () => {
    const input = exampleConfigInput() as Mutable;
    input.seeds[0].name = 'R'.repeat(62);
    input.seeds[0].roleCreationLimit = 10;
    expect(loadConfig({ config: input as ProjectConfigInput }).seeds[0].name).toHaveLength(62);
  });

  test('several problems are all reported at once', () => {
    const error = errorFor((c) => {
      c.account = 'x';
      c.region = 'y';
      c.bucket.name = 'Z';
    });
    expect(error.problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['config.account', 'config.region', 'config.bucket.name']),
    );
  });
});
