import fc from 'fast-check';
import { ConfigError, loadConfig, roleCreationLimitCeiling } from '../../../lib/config';
import { namespacesOfSeed } from '../../../lib/config/project-config';
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

/** The one problem line naming `field`; it must show the value found and words of the fix. */
function expectProblem(
  modify: (c: Mutable) => void,
  field: string,
  value: string,
  fix: string,
): ConfigError {
  const error = errorFor(modify);
  const line = error.problems.find((p) => p.startsWith(`${field}:`));
  expect({ line, problems: error.problems }).toMatchObject({ line: expect.any(String) });
  expect(line).toContain(value);
  expect(line).toContain(fix);
  return error;
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
    [
      'misspelled field, answered with the closest known key',
      (c) => (c.bucket.prefx = 'x'),
      'config.bucket.prefx',
      '"x"',
      'did you mean "prefix"',
    ],
    [
      'misspelled seed field (issue 11 point 8: was `Unrecognized key: "nmae"`)',
      (c) => {
        c.seeds[0].nmae = c.seeds[0].name;
        delete c.seeds[0].name;
      },
      'config.seeds.0.nmae',
      '"KubestashRole"',
      'did you mean "name"',
    ],
    [
      'missing required field (was `Invalid input: expected string, received undefined`)',
      (c) => delete c.account,
      'config.account',
      'got nothing',
      'required: add "account" with a string',
    ],
    [
      'number written as a string',
      (c) => (c.seeds[0].roleCreationLimit = '50'),
      'config.seeds.0.roleCreationLimit',
      '"50"',
      'write 50 without quotes',
    ],
    [
      'a single namespace instead of a list',
      (c) => (c.allowedNamespaces = 'demo'),
      'config.allowedNamespaces',
      '"demo"',
      'write a JSON list, e.g. ["demo"]',
    ],
    [
      'boolean written as a string',
      (c) => (c.bucket.existing = 'yes'),
      'config.bucket.existing',
      '"yes"',
      'write true or false without quotes',
    ],
    [
      'boundary that is not a policy',
      (c) => (c.permissionsBoundaryArn = 'arn:aws:iam::111122223333:role/x'),
      'config.permissionsBoundaryArn',
      'role/x',
      'managed policy ARN',
    ],
    [
      'unknown seed mode',
      (c) => (c.seeds[0].mode = 'pod_identity'),
      'config.seeds.0.mode',
      '"pod_identity"',
      'choose "irsa"',
    ],
    [
      'two pod-identity seeds on one cluster',
      (c) =>
        (c.seeds = [
          { name: 'KubestashRole', mode: 'pod-identity', namespaces: ['demo'] },
          { name: 'VeleroRole', mode: 'pod-identity', namespaces: ['demo'] },
        ]),
      'config.seeds.1.mode',
      '"pod-identity"',
      'seed KubestashRole already serves namespace demo of cluster prod-cluster',
    ],
    [
      'association quota below one',
      (c) => (c.clusters[0].podIdentity = { associationQuota: 0 }),
      'config.clusters.0.podIdentity.associationQuota',
      '0',
      'at least 1',
    ],
    [
      'settle time past one pass',
      (c) => (c.seeds[0].associationSettleSeconds = 600),
      'config.seeds.0.associationSettleSeconds',
      '600',
      'at most 60 seconds',
    ],
  ];

  test.each(cases)(
    'rejects %s, naming the field, the value and the fix',
    (_name, modify, field, value, fix) => {
      expect(expectProblem(modify, field, value, fix).message).toContain('cdk.json');
    },
  );

  test("no message is the validator's raw text", () => {
    const error = errorFor((c) => {
      delete c.account;
      c.region = 7;
      c.bucket.nmae = 'x';
      c.seeds[0].operator = 'kubestash';
      c.jobGate = { enabled: 'no' };
    });
    expect(error.problems).toHaveLength(5);
    for (const p of error.problems) {
      expect(p).not.toMatch(/Invalid input|Unrecognized key|received/);
      expect(p).toMatch(/^config\.[\w.]+: got .+: .+/);
    }
  });

  test('seeds default to irsa; pod-identity gets the EKS default association quota', () => {
    const input = exampleConfigInput() as Mutable;
    expect(loadConfig({ config: input as ProjectConfigInput }).seeds[0].mode).toBe('irsa');
    input.seeds[0].mode = 'pod-identity';
    const config = loadConfig({ config: input as ProjectConfigInput });
    expect(config.seeds[0]).toMatchObject({ mode: 'pod-identity', associationSettleSeconds: 10 });
    expect(config.clusters[0].podIdentity).toEqual({ associationQuota: 5000, installAgent: false });
  });

  test('two pod-identity seeds may share no cluster, but may split them', () => {
    const input = exampleConfigInput() as Mutable;
    input.clusters.push({ ...input.clusters[0], name: 'staging' });
    input.seeds = [
      {
        name: 'KubestashRole',
        mode: 'pod-identity',
        clusters: ['prod-cluster'],
        namespaces: ['demo'],
      },
      { name: 'StagingRole', mode: 'pod-identity', clusters: ['staging'], namespaces: ['demo'] },
    ];
    expect(loadConfig({ config: input as ProjectConfigInput }).seeds).toHaveLength(2);
  });

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

/**
 * Layouts real IAM refuses or never honours (issue 11), each with the rule's source:
 * - partitions: https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
 *   ("Partitions have independent instances of IAM"); ARN format
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 * - role names: 64 characters, unique in the account ignoring case and path,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html and
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
 * - EKS issuer: `https://oidc.eks.<region>.amazonaws.com/id/<ID>`, no trailing "/",
 *   https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html
 */
describe('IAM layout', () => {
  const CN_PROVIDER =
    'arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC';

  /** A config for region cn-north-1 whose every ARN is in aws-cn. */
  function chinaConfig(c: Mutable): void {
    c.region = 'cn-north-1';
    c.clusters = [{ name: 'prod-cluster', oidcProviderArn: CN_PROVIDER }];
    c.bucket.encryption = 'kms';
    c.bucket.kmsKeyArn = 'arn:aws-cn:kms:cn-north-1:111122223333:key/abcd-1234';
    c.permissionsBoundaryArn = 'arn:aws-cn:iam::111122223333:policy/Boundary';
    c.seeds[0].namespaces = ['demo'];
    c.seeds.push({
      name: 'DumpSeed',
      namespaces: ['demo'],
      accessPolicy: 'database-dump',
      secretArns: ['arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:db-AbCdEf'],
    });
    c.databaseDumps = [
      {
        name: 'app',
        database: 'app',
        secretArn: 'arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:app-AbCdEf',
        secretKmsKeyArn: 'arn:aws-cn:kms:cn-north-1:111122223333:key/abcd-5678',
      },
    ];
  }

  test('a config whose ARNs are all in the region’s partition is accepted', () => {
    const input = exampleConfigInput() as Mutable;
    chinaConfig(input);
    expect(loadConfig({ config: input as ProjectConfigInput }).region).toBe('cn-north-1');
  });

  // Each ARN field, written in partition aws while the region is in aws-cn.
  const arnFields: [string, (c: Mutable) => void, string][] = [
    [
      'OIDC provider',
      (c) => (c.clusters[0].oidcProviderArn = CN_PROVIDER.replace('aws-cn', 'aws')),
      'config.clusters.0.oidcProviderArn',
    ],
    [
      'bucket KMS key',
      (c) => (c.bucket.kmsKeyArn = 'arn:aws:kms:cn-north-1:111122223333:key/abcd-1234'),
      'config.bucket.kmsKeyArn',
    ],
    [
      'permissions boundary',
      (c) => (c.permissionsBoundaryArn = 'arn:aws:iam::111122223333:policy/Boundary'),
      'config.permissionsBoundaryArn',
    ],
    [
      'seed secret',
      (c) =>
        (c.seeds[1].secretArns = [
          'arn:aws:secretsmanager:cn-north-1:111122223333:secret:db-AbCdEf',
        ]),
      'config.seeds.1.secretArns.0',
    ],
    [
      'dump secret',
      (c) =>
        (c.databaseDumps[0].secretArn =
          'arn:aws:secretsmanager:cn-north-1:111122223333:secret:app-AbCdEf'),
      'config.databaseDumps.0.secretArn',
    ],
    [
      'dump secret KMS key',
      (c) =>
        (c.databaseDumps[0].secretKmsKeyArn = 'arn:aws:kms:cn-north-1:111122223333:key/abcd-5678'),
      'config.databaseDumps.0.secretKmsKeyArn',
    ],
  ];
  test.each(arnFields)(
    'refuses a %s ARN in another partition than the region’s, naming the field and the fix',
    (_name, modify, field) => {
      const error = errorFor((c) => {
        chinaConfig(c);
        modify(c);
      });
      expect(error.problems).toHaveLength(1);
      const [line] = error.problems;
      expect(line.startsWith(`${field}: got "arn:aws:`)).toBe(true);
      expect(line).toContain('partition "aws", but region cn-north-1 is in partition "aws-cn"');
      expect(line).toContain("use the resource's ARN in aws-cn (arn:aws-cn:");
    },
  );

  test('refuses a cluster whose EKS issuer is in another partition', () => {
    const error = errorFor(
      (c) => (c.clusters[0].oidcIssuerUrl = 'https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC'),
    );
    expect(error.problems).toEqual([
      expect.stringMatching(
        /^config\.clusters\.0\.oidcIssuerUrl: got ".*": the issuer belongs to an EKS cluster in cn-north-1 \(partition "aws-cn"\), but region us-east-1 is in partition "aws".*set region/,
      ),
    ]);
  });

  test('drops a trailing "/" from the issuer URL and the provider ARN', () => {
    const input = exampleConfigInput() as Mutable;
    input.clusters[0].oidcIssuerUrl = 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC/';
    input.clusters.push({
      name: 'dr',
      oidcProviderArn:
        'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/DR/',
    });
    const config = loadConfig({ config: input as ProjectConfigInput });
    expect(config.clusters.map((c) => c.oidcIssuerUrl ?? c.oidcProviderArn)).toEqual([
      'https://oidc.eks.us-east-1.amazonaws.com/id/ABC',
      'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/DR',
    ]);
  });

  // Two roles of one account whose names differ only in case, or a name that a derived role will take.
  const clashes: [string, (c: Mutable) => void, string, string, string][] = [
    [
      'a seed named like another seed’s derived role',
      (c) => c.seeds.push({ name: 'KubestashRole-1', derivedRolePath: '/other/' }),
      'config.seeds.1.name',
      '"KubestashRole-1"',
      'derived role 1 of seed KubestashRole',
    ],
    [
      'a seed named like a derived role in another case',
      (c) => c.seeds.push({ name: 'KUBESTASHROLE-99', derivedRolePath: '/other/' }),
      'config.seeds.1.name',
      '"KUBESTASHROLE-99"',
      'lower seeds.0.roleCreationLimit to at most 99',
    ],
    [
      'two seeds that differ only in case',
      (c) => c.seeds.push({ name: 'kubestashrole', derivedRolePath: '/other/' }),
      'config.seeds.1',
      '"kubestashrole"',
      'unique ignoring case',
    ],
    [
      'a dump role named like a derived role',
      (c) =>
        (c.databaseDumps = [
          {
            name: 'app',
            database: 'app',
            roleName: 'kubestashrole-7',
            secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf',
          },
        ]),
      'config.databaseDumps.0.roleName',
      '"kubestashrole-7"',
      'derived role 7 of seed KubestashRole',
    ],
    [
      'a dump role named like a seed in another case',
      (c) =>
        (c.databaseDumps = [
          {
            name: 'app',
            database: 'app',
            roleName: 'KUBESTASHROLE',
            secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf',
          },
        ]),
      'config.databaseDumps.0.roleName',
      '"KUBESTASHROLE"',
      'already taken by config.seeds.0.name',
    ],
    [
      'two dumps whose default role names differ only in case',
      (c) => {
        c.stackName = 'Ks';
        c.databaseDumps = ['app', 'app2'].map((name) => ({
          name,
          database: 'app',
          secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf',
        }));
        c.databaseDumps[1].roleName = 'KS-DUMP-APP';
      },
      'config.databaseDumps.1.roleName',
      '"KS-DUMP-APP"',
      'already taken by config.databaseDumps.0.name',
    ],
  ];
  test.each(clashes)('refuses %s', (_name, modify, field, value, fix) => {
    expectProblem(modify, field, value, fix);
  });

  test('a name past the seed’s limit does not clash', () => {
    const input = exampleConfigInput() as Mutable;
    input.seeds[0].namespaces = ['demo'];
    input.seeds.push({
      name: 'KubestashRole-100',
      derivedRolePath: '/other/',
      namespaces: ['demo'],
    });
    expect(loadConfig({ config: input as ProjectConfigInput }).seeds).toHaveLength(2);
  });

  test('a role-creation limit whose last name would pass 64 characters is refused', () => {
    const error = errorFor((c) => {
      c.seeds[0].name = 'R'.repeat(61);
      c.seeds[0].roleCreationLimit = 101;
    });
    expect(error.problems).toEqual([
      expect.stringContaining('lower roleCreationLimit to at most 100'),
    ]);
  });

  test('roleCreationLimitCeiling: 64 characters, other role names, and 1000', () => {
    const ceiling = (modify: (c: Mutable) => void) => {
      const input = exampleConfigInput() as Mutable;
      input.seeds[0].roleCreationLimit = 1;
      modify(input);
      const config = loadConfig({ config: input as ProjectConfigInput });
      return roleCreationLimitCeiling(config, config.seeds[0]);
    };
    expect(ceiling(() => undefined)).toBe(1000);
    // `<61 characters>-99` is 64 characters; `-100` would be 65.
    expect(ceiling((c) => (c.seeds[0].name = 'R'.repeat(61)))).toBe(100);
    expect(ceiling((c) => (c.seeds[0].name = 'R'.repeat(62)))).toBe(10);
    expect(
      ceiling((c) => {
        c.seeds[0].namespaces = ['demo'];
        c.seeds.push({ name: 'kubestashROLE-500', derivedRolePath: '/x/', namespaces: ['demo'] });
      }),
    ).toBe(500);
  });
});

/**
 * Issue 12 point 3: each seed names the namespaces (teams) whose
 * ServiceAccounts may use it; with several seeds, a seed without its list is
 * refused, so one team cannot annotate its way into another team's seed.
 */
describe('per-seed namespaces', () => {
  const teams = (c: Mutable) => {
    c.allowedNamespaces = ['shop', 'billing', 'velero'];
    c.kubernetes.storage.namespace = 'shop';
    c.kubernetes.backups[0].namespace = 'shop';
    c.kubernetes.restores[0].namespace = 'shop';
    c.kubernetes.demoWorkload.namespace = 'shop';
    c.seeds[0].namespaces = ['shop', 'billing'];
    c.seeds.push({
      name: 'VeleroRole',
      accessPolicy: 'velero',
      derivedRolePath: '/velero-irsa/',
      namespaces: ['velero'],
    });
  };

  test('a team per namespace is accepted, and each seed serves exactly its list', () => {
    const input = exampleConfigInput() as Mutable;
    teams(input);
    const config = loadConfig({ config: input as ProjectConfigInput });
    expect(config.seeds.map((s) => [s.name, namespacesOfSeed(config, s)])).toEqual([
      ['KubestashRole', ['shop', 'billing']],
      ['VeleroRole', ['velero']],
    ]);
  });

  test('one seed without a list serves every allowed namespace', () => {
    const config = loadConfig({ config: exampleConfigInput() });
    expect(namespacesOfSeed(config, config.seeds[0])).toEqual(['demo']);
  });

  const cases: [string, (c: Mutable) => void, string, string, string][] = [
    [
      'several seeds, one without its namespaces',
      (c) => {
        teams(c);
        delete c.seeds[1].namespaces;
      },
      'config.seeds.1.namespaces',
      'got nothing',
      'add e.g. "namespaces": ["shop"] to seed VeleroRole',
    ],
    [
      'a namespace outside allowedNamespaces',
      (c) => {
        teams(c);
        c.seeds[1].namespaces = ['velero', 'kube-system'];
      },
      'config.seeds.1.namespaces.1',
      '"kube-system"',
      'not in allowedNamespaces (shop, billing, velero)',
    ],
    [
      'an empty list',
      (c) => {
        teams(c);
        c.seeds[1].namespaces = [];
      },
      'config.seeds.1.namespaces',
      '[]',
      'list at least one namespace, or remove the field',
    ],
    [
      'a namespace listed twice',
      (c) => {
        teams(c);
        c.seeds[0].namespaces = ['shop', 'billing', 'shop'];
      },
      'config.seeds.0.namespaces.2',
      '"shop"',
      'list each namespace once',
    ],
    [
      'more namespaces than the seed’s IAM tag holds',
      (c) => {
        const many = Array.from({ length: 30 }, (_, i) => `team-namespace-${i}`);
        c.allowedNamespaces = ['demo', ...many];
        c.seeds[0].namespaces = ['demo', ...many];
      },
      'config.seeds.0.namespaces',
      'team-namespace-0',
      'IAM tag of at most 256 characters, and these take 534',
    ],
  ];

  test.each(cases)(
    'rejects %s, naming the field, the value and the fix',
    (_name, modify, field, value, fix) => {
      expectProblem(modify, field, value, fix);
    },
  );

  test('property: any team layout within allowedNamespaces is accepted as written; dropping one list of several is refused at that seed', () => {
    const namespace = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(namespace, { minLength: 1, maxLength: 6 }),
        fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
        (allowed, picks, drop) => {
          const input = exampleConfigInput() as Mutable;
          input.allowedNamespaces = allowed;
          input.kubernetes.storage.namespace = allowed[0];
          input.kubernetes.backups = [];
          input.kubernetes.restores = [];
          delete input.kubernetes.demoWorkload;
          const lists = picks.map((p) => [...new Set(p.map((i) => allowed[i % allowed.length]))]);
          input.seeds = lists.map((namespaces, i) => ({
            name: `Team${i}Role`,
            derivedRolePath: `/team-${i}/`,
            namespaces,
          }));
          const config = loadConfig({ config: input as ProjectConfigInput });
          expect(config.seeds.map((s) => namespacesOfSeed(config, s))).toEqual(lists);
          if (lists.length < 2) return;
          const dropped = drop % lists.length;
          delete input.seeds[dropped].namespaces;
          const error = (() => {
            try {
              loadConfig({ config: input as ProjectConfigInput });
            } catch (e) {
              return e;
            }
            return undefined;
          })();
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).problems).toEqual([
            expect.stringMatching(
              new RegExp(`^config\\.seeds\\.${dropped}\\.namespaces: got nothing`),
            ),
          ]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
