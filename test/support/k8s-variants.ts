import { addSeeds } from './example-app';
import { synthExample } from './k8s-manifests';
import type { MutableConfig, SynthesizedManifests } from './k8s-manifests';

/**
 * Configurations richer than cdk.json's example, for the manifest tests: each
 * exercises options the example leaves at their defaults. All are valid.
 */
export interface ConfigVariant {
  readonly name: string;
  readonly modify: (c: MutableConfig) => void;
  readonly env?: Readonly<Record<string, string>>;
  readonly stackOutputs?: Readonly<Record<string, string>>;
}

/** What `cdk deploy --outputs-file` records for the job gate (a made-up Function URL). */
export const TEST_STACK_OUTPUTS = {
  JobGateUrl: 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/',
  JobGateTokenSecretprodcluster:
    'arn:aws:secretsmanager:us-east-1:111122223333:secret:KubestashIrsaJobGateTokenprodcluster-AbCdEf',
  BucketName: 'kubestash-backups-111122223333',
};

/** A restic password long enough for ResticPasswordSecret (a test value, never a real one). */
export const TEST_RESTIC_PASSWORD = 'test-only-restic-password-0123456789';

export const EXAMPLE: ConfigVariant = { name: 'the example (cdk.json)', modify: () => {} };

export const DEPLOYED: ConfigVariant = {
  name: 'the example once the stack is deployed (job gate)',
  modify: () => {},
  stackOutputs: TEST_STACK_OUTPUTS,
};

export const KUBEDB: ConfigVariant = {
  name: 'KubeDB Postgres with params, WipeOut storage usable from All, long retention, restic Secret from the environment',
  modify: (c) => {
    c.allowedNamespaces = ['demo', 'db'];
    c.kubernetes.storage = {
      name: 's3-storage',
      namespace: 'demo',
      subPrefix: 'team-a/prod',
      default: false,
      deletionPolicy: 'WipeOut',
      usableFrom: 'All',
    };
    c.kubernetes.retention = {
      name: 'keep-long',
      namespace: 'demo',
      default: false,
      successfulSnapshots: { last: 10, hourly: 24, daily: 7, weekly: 4, monthly: 12, yearly: 2 },
      failedSnapshots: { last: 0 },
      maxRetentionPeriod: '1y6mo',
      usableFrom: 'All',
    };
    c.kubernetes.encryptionSecret = {
      name: 'restic-password',
      namespace: 'demo',
      fromEnvironment: 'RESTIC_PASSWORD',
    };
    c.kubernetes.backups.push({
      name: 'app-db-backup',
      namespace: 'db',
      target: { kind: 'Postgres', name: 'app-db' },
      schedule: '@daily',
      task: 'logical-backup',
      params: { args: '--clean', user: 'postgres' },
      retry: { maxRetry: 0, delay: '30s' },
      backoffLimit: 0,
      paused: true,
    });
    c.kubernetes.restores.push({
      name: 'app-db-restore',
      from: 'app-db-backup',
      namespace: 'db',
      snapshot: 'app-db-backup-repo-scheduled-1700000000',
      task: 'logical-backup-restore',
      params: { args: '--single-transaction', user: 'postgres' },
    });
  },
  env: { RESTIC_PASSWORD: TEST_RESTIC_PASSWORD },
};

export const MULTI_CLUSTER: ConfigVariant = {
  name: 'two clusters and two seeds, a bucket without prefix, StatefulSet and MySQL backups, no demo',
  modify: (c) => {
    c.clusters.push({
      name: 'staging',
      oidcProviderArn:
        'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF',
    });
    c.allowedNamespaces = ['demo', 'apps'];
    // A team per namespace: the staging operator's seed serves apps, the prod one demo.
    c.seeds[0].namespaces = ['demo'];
    addSeeds(c, { name: 'StagingRole', clusters: ['staging'], namespaces: ['apps'] });
    c.kubernetes.cluster = 'staging';
    c.kubernetes.seed = 'StagingRole';
    c.bucket.prefix = '';
    c.kubernetes.storage = { usableFrom: 'Same', namespace: 'apps' };
    c.kubernetes.retention = { maxRetentionPeriod: '30d', usableFrom: 'Same' };
    c.kubernetes.backups = [
      {
        name: 'web',
        namespace: 'apps',
        target: { kind: 'StatefulSet', name: 'web' },
        schedule: '0 3 * * 1-5',
        params: { paths: '/var/lib/web', exclude: '/var/lib/web/cache' },
      },
      {
        name: 'orders',
        namespace: 'apps',
        target: { kind: 'MySQL', name: 'orders' },
        addon: 'mysql-addon',
        schedule: '30 1 * * *',
        task: 'physical-backup',
        params: { databases: 'orders' },
      },
    ];
    c.kubernetes.restores = [{ name: 'web-restore', from: 'web', namespace: 'apps' }];
    c.kubernetes.demoWorkload = { enabled: false };
    c.databaseDumps = [
      {
        name: 'orders',
        cluster: 'staging',
        namespace: 'dumps',
        serviceAccount: 'orders-dumper',
        secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:staging/orders-XyZ123',
        database: 'orders',
        schedule: '@hourly',
        subPrefix: 'dumps/orders',
        resources: { limits: { cpu: '1', memory: '1Gi' } },
      },
      {
        name: 'prod-only',
        cluster: 'prod-cluster',
        secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/other-AbC123',
        database: 'other',
      },
    ];
  },
};

export const CONFIG_VARIANTS: readonly ConfigVariant[] = [EXAMPLE, DEPLOYED, KUBEDB, MULTI_CLUSTER];

/** The manifests of a variant, with its environment and stack outputs. */
export function synthVariant(variant: ConfigVariant): SynthesizedManifests {
  return synthExample(variant.modify, { env: variant.env, stackOutputs: variant.stackOutputs });
}
