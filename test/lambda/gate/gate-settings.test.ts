import { readGateSettings } from '../../../lambda/gate/gate-settings';

const ENV = {
  ALLOWED_NAMESPACES: 'demo prod',
  BUCKETS:
    'bucket-a=ace/backups/.kubestash-irsa-access-check/ bucket-b=.kubestash-irsa-access-check/',
  CLUSTER_SEEDS: 'prod-cluster=KubestashRole,OtherSeed;dr-cluster=KubestashRole',
  SEED_NAMESPACES: 'KubestashRole=demo prod;OtherSeed=prod',
  CLUSTER_TOKEN_SECRETS:
    'prod-cluster=arn:aws:secretsmanager:us-east-1:111122223333:secret:a-1;dr-cluster=arn:aws:secretsmanager:us-east-1:111122223333:secret:b-2',
  ACCESS_CHECK_IMAGE: 'amazon/aws-cli:2.27.50',
  ACCESS_CHECK_ATTEMPTS: '12',
  ACCESS_CHECK_DELAY_SECONDS: '5',
};

describe('readGateSettings', () => {
  test('reads what the JobGate construct writes', () => {
    expect(readGateSettings(ENV)).toEqual({
      allowedNamespaces: ['demo', 'prod'],
      buckets: [
        { bucket: 'bucket-a', prefix: 'ace/backups/.kubestash-irsa-access-check/' },
        { bucket: 'bucket-b', prefix: '.kubestash-irsa-access-check/' },
      ],
      clusterSeeds: {
        'prod-cluster': ['KubestashRole', 'OtherSeed'],
        'dr-cluster': ['KubestashRole'],
      },
      seedNamespaces: { KubestashRole: ['demo', 'prod'], OtherSeed: ['prod'] },
      clusterTokenSecrets: {
        'prod-cluster': 'arn:aws:secretsmanager:us-east-1:111122223333:secret:a-1',
        'dr-cluster': 'arn:aws:secretsmanager:us-east-1:111122223333:secret:b-2',
      },
      accessCheckImage: 'amazon/aws-cli:2.27.50',
      accessCheckAttempts: 12,
      accessCheckDelaySeconds: 5,
      observeOnly: false,
      podIdentityClusters: [],
    });
  });

  test('SEED_NAMESPACES unset (a stack from before per-seed namespaces): no seed is narrowed', () => {
    expect(readGateSettings({ ...ENV, SEED_NAMESPACES: undefined }).seedNamespaces).toEqual({});
  });

  test('GATE_OBSERVE_ONLY: true observes, unset or false gates, anything else is refused', () => {
    expect(readGateSettings({ ...ENV, GATE_OBSERVE_ONLY: 'true' }).observeOnly).toBe(true);
    expect(
      readGateSettings({ ...ENV, POD_IDENTITY_CLUSTERS: 'auto-cluster dr-cluster' })
        .podIdentityClusters,
    ).toEqual(['auto-cluster', 'dr-cluster']);
    expect(readGateSettings({ ...ENV, GATE_OBSERVE_ONLY: 'false' }).observeOnly).toBe(false);
    expect(() => readGateSettings({ ...ENV, GATE_OBSERVE_ONLY: 'yes' })).toThrow(
      'GATE_OBSERVE_ONLY: "yes" is not true or false',
    );
  });

  test.each<[string, Record<string, string | undefined>, RegExp]>([
    [
      'a missing variable',
      { ALLOWED_NAMESPACES: undefined },
      /ALLOWED_NAMESPACES is not set; redeploy/,
    ],
    [
      'a bucket without prefix',
      { BUCKETS: 'bucket-a' },
      /BUCKETS: "bucket-a" is not bucket=prefix/,
    ],
    [
      'a seed without its namespaces',
      { SEED_NAMESPACES: 'KubestashRole' },
      /SEED_NAMESPACES: "KubestashRole" is not seed=namespace/,
    ],
    [
      'a cluster without seeds',
      { CLUSTER_SEEDS: 'prod' },
      /CLUSTER_SEEDS: "prod" is not cluster=seed/,
    ],
    [
      'a token secret without its ARN',
      { CLUSTER_TOKEN_SECRETS: 'prod-cluster=' },
      /CLUSTER_TOKEN_SECRETS: "prod-cluster=" is not cluster=secretArn/,
    ],
    [
      'a cluster without a token secret',
      { CLUSTER_TOKEN_SECRETS: 'prod-cluster=arn:aws:secretsmanager:us-east-1:1:secret:a' },
      /CLUSTER_TOKEN_SECRETS names no token secret for dr-cluster/,
    ],
    [
      'zero attempts',
      { ACCESS_CHECK_ATTEMPTS: '0' },
      /ACCESS_CHECK_ATTEMPTS: "0" is not a whole number from 1 to 100/,
    ],
    ['a fractional delay', { ACCESS_CHECK_DELAY_SECONDS: '1.5' }, /ACCESS_CHECK_DELAY_SECONDS/],
  ])('%s fails the cold start with the variable named', (_, change, message) => {
    expect(() => readGateSettings({ ...ENV, ...change })).toThrow(message);
  });
});
