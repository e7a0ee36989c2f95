import { ConfigError } from '../../lib/config';
import { partitionOf, resolveManifestContext } from '../../k8s/manifest-context';
import { addSeeds, moveConfigTo } from '../support/example-app';
import { exampleConfig } from '../support/k8s-manifests';
import type { MutableConfig } from '../support/k8s-manifests';

const STAGING = {
  name: 'Staging_EU',
  oidcProviderArn:
    'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF',
};

function contextOf(modify: (c: MutableConfig) => void = () => {}) {
  return resolveManifestContext(exampleConfig(modify));
}

function problemsOf(modify: (c: MutableConfig) => void): readonly string[] {
  try {
    contextOf(modify);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected resolveManifestContext to refuse the config');
}

describe('resolveManifestContext', () => {
  test('the example: its one cluster and seed, the seed ARN, storage and prefix from the config', () => {
    const context = contextOf();
    expect({
      cluster: context.cluster.name,
      seed: context.seed.name,
      seedRoleArn: context.seedRoleArn,
      partition: context.partition,
      storageNamespace: context.storageNamespace,
      storagePrefix: context.storagePrefix,
      s3Endpoint: context.s3Endpoint,
    }).toEqual({
      cluster: 'prod-cluster',
      seed: 'KubestashRole',
      seedRoleArn: 'arn:aws:iam::111122223333:role/KubestashRole',
      partition: 'aws',
      storageNamespace: 'demo',
      storagePrefix: 'ace/production/backups/prod-cluster',
      s3Endpoint: 'https://s3.us-east-1.amazonaws.com',
    });
  });

  test('defaults: storage in the first allowed namespace, folder named after the cluster in lowercase', () => {
    const context = contextOf((c) => {
      c.clusters = [{ ...STAGING }];
      c.databaseDumps = [];
      c.allowedNamespaces = ['team-a', 'demo'];
      delete c.kubernetes.storage.namespace;
      c.bucket.prefix = '';
    });
    expect(context.storageNamespace).toBe('team-a');
    expect(context.storagePrefix).toBe('staging_eu');
  });

  test('an explicit sub-prefix replaces the cluster folder', () => {
    expect(contextOf((c) => (c.kubernetes.storage.subPrefix = 'shared/k8s')).storagePrefix).toBe(
      'ace/production/backups/shared/k8s',
    );
  });

  test('China and GovCloud regions get their partition and endpoint', () => {
    const china = contextOf((c) => moveConfigTo(c, 'cn-northwest-1', 'aws-cn'));
    expect(china.seedRoleArn).toBe('arn:aws-cn:iam::111122223333:role/KubestashRole');
    expect(china.s3Endpoint).toBe('https://s3.cn-northwest-1.amazonaws.com.cn');
    const gov = contextOf((c) => moveConfigTo(c, 'us-gov-west-1', 'aws-us-gov'));
    expect(gov.seedRoleArn).toBe('arn:aws-us-gov:iam::111122223333:role/KubestashRole');
    expect(gov.s3Endpoint).toBe('https://s3.us-gov-west-1.amazonaws.com');
  });

  test('partitionOf', () => {
    expect(['us-east-1', 'eu-central-1', 'cn-north-1', 'us-gov-east-1'].map(partitionOf)).toEqual([
      'aws',
      'aws',
      'aws-cn',
      'aws-us-gov',
    ]);
  });

  test('with several clusters, kubernetes.cluster picks one, and the seeds that serve it', () => {
    const context = contextOf((c) => {
      c.clusters.push(STAGING);
      c.seeds[0].clusters = ['prod-cluster'];
      addSeeds(c, { name: 'StagingRole', clusters: ['Staging_EU'] });
      c.kubernetes.cluster = 'Staging_EU';
    });
    expect(context.cluster.name).toBe('Staging_EU');
    expect(context.seed.name).toBe('StagingRole');
  });

  // Each case: the change, then the field, the value and words of the fix the one problem must carry.
  const refusals: [string, (c: MutableConfig) => void, string, string, string][] = [
    [
      'several clusters without kubernetes.cluster',
      (c) => c.clusters.push(STAGING),
      'config.kubernetes.cluster',
      'got nothing, and 2 clusters are configured',
      'set it to the cluster these manifests are for (prod-cluster, Staging_EU)',
    ],
    [
      'several seeds serving the cluster without kubernetes.seed',
      (c) => addSeeds(c, { name: 'SecondRole' }),
      'config.kubernetes.seed',
      'got nothing, and 2 seeds serve cluster prod-cluster',
      'choose one of KubestashRole, SecondRole',
    ],
    [
      'a seed that does not serve the cluster',
      (c) => {
        c.clusters.push(STAGING);
        c.kubernetes.cluster = 'prod-cluster';
        addSeeds(c, { name: 'StagingRole', clusters: ['Staging_EU'] });
        c.kubernetes.seed = 'StagingRole';
      },
      'config.kubernetes.seed',
      '"StagingRole"',
      'it does not serve cluster prod-cluster; add the cluster to its clusters or choose one of KubestashRole',
    ],
    [
      'no seed serving the cluster',
      (c) => {
        c.clusters.push(STAGING);
        c.kubernetes.cluster = 'Staging_EU';
        c.seeds[0].clusters = ['prod-cluster'];
      },
      'config.kubernetes.cluster',
      '"Staging_EU"',
      "no seed serves cluster Staging_EU; add it to a seed's clusters",
    ],
    [
      'a BackupStorage usable from its own namespace only, with backups elsewhere',
      (c) => {
        c.allowedNamespaces = ['demo', 'apps'];
        c.kubernetes.storage.usableFrom = 'Same';
        c.kubernetes.backups[0].namespace = 'apps';
        c.kubernetes.restores = [];
      },
      'config.kubernetes.storage.usableFrom',
      'got "Same": the BackupStorage is in namespace demo',
      'KubeStash refuses the backups in other namespaces (apps/sample-backup-daemon); use "AllowedNamespaces"',
    ],
    [
      'a RetentionPolicy usable from its own namespace only, with backups elsewhere',
      (c) => {
        c.allowedNamespaces = ['demo', 'apps'];
        c.kubernetes.retention.usableFrom = 'Same';
        c.kubernetes.retention.namespace = 'apps';
      },
      'config.kubernetes.retention.usableFrom',
      'got "Same": the RetentionPolicy is in namespace apps',
      '(demo/sample-backup-daemon); use "AllowedNamespaces", or move the RetentionPolicy (config.kubernetes.retention.namespace)',
    ],
    [
      'a backup in a namespace the operator’s seed does not serve (a team per namespace)',
      (c) => {
        c.allowedNamespaces = ['demo', 'apps'];
        c.seeds[0].namespaces = ['apps'];
      },
      'config.kubernetes.backups.0.namespace',
      'got "demo": its sessions name the KubeStash operator\'s seed KubestashRole, which serves only apps',
      'add "demo" to config.seeds.0.namespaces or move the backup',
    ],
  ];

  test.each(refusals)(
    'refuses %s, naming the field, the value and the fix',
    (_name, modify, field, value, fix) => {
      const problems = problemsOf(modify);
      expect(problems).toHaveLength(1);
      expect(problems[0].startsWith(`${field}: `)).toBe(true);
      expect(problems[0]).toContain(value);
      expect(problems[0]).toContain(fix);
    },
  );

  test('"Same" is fine when every backup is in the object’s namespace', () => {
    const context = contextOf((c) => {
      c.kubernetes.storage.usableFrom = 'Same';
      c.kubernetes.retention.usableFrom = 'Same';
    });
    expect(context.storageNamespace).toBe('demo');
  });
});
