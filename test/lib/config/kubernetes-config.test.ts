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

const STAGING = {
  name: 'staging',
  oidcProviderArn:
    'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF',
};

describe('kubernetes config', () => {
  test('the example in cdk.json is valid and gets its defaults', () => {
    const { kubernetes, databaseDumps } = loadConfig({ config: exampleConfigInput() });
    expect(kubernetes.storage).toEqual({
      name: 's3-storage',
      namespace: 'demo',
      default: true,
      deletionPolicy: 'Delete',
      usableFrom: 'AllowedNamespaces',
    });
    expect(kubernetes.retention.failedSnapshots).toEqual({ last: 2 });
    expect(kubernetes.backups[0]).toMatchObject({
      task: 'logical-backup',
      paused: false,
      params: { paths: '/source/data' },
    });
    expect(kubernetes.restores[0]).toMatchObject({
      task: 'logical-backup-restore',
      params: {},
      snapshot: 'latest',
    });
    expect(databaseDumps[0]).toMatchObject({
      engine: 'postgres',
      dumpImage: 'postgres:17-alpine',
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m' } },
    });
  });

  test('a config without a kubernetes section gets every default', () => {
    const input = exampleConfigInput() as Mutable;
    delete input.kubernetes;
    delete input.databaseDumps;
    const config = loadConfig({ config: input as ProjectConfigInput });
    expect(config.kubernetes).toMatchObject({
      reconcilerGroup: 'kubestash-irsa:reconciler',
      backups: [],
      restores: [],
      demoWorkload: { enabled: false },
      encryptionSecret: { name: 'encrypt-secret' },
      retention: { maxRetentionPeriod: '2mo', successfulSnapshots: { last: 5 } },
    });
    expect(config.databaseDumps).toEqual([]);
  });

  // Each case: the change, the field the message must name, the value it must show, and words of the fix.
  const cases: [string, (c: Mutable) => void, string, string, string][] = [
    [
      'unknown addon task',
      (c) => (c.kubernetes.backups[0].task = 'full-backup'),
      'config.kubernetes.backups.0.task',
      '"full-backup"',
      'workload-addon has no backup task "full-backup"; use one of logical-backup, volume-snapshot, manifest-backup',
    ],
    [
      'unknown parameter',
      (c) => (c.kubernetes.backups[0].params.bogus = 'x'),
      'config.kubernetes.backups.0.params.bogus',
      '"x"',
      'takes no parameter "bogus"; it takes paths, exclude, enableCache, scratchDir',
    ],
    [
      'missing required parameter (workload logical-backup needs paths)',
      (c) => (c.kubernetes.backups[0].params = { exclude: '/tmp' }),
      'config.kubernetes.backups.0.params',
      '{"exclude":"/tmp"}',
      'needs the parameter "paths", e.g. params: { "paths": "..." }',
    ],
    [
      'parameter value that is not a string',
      (c) => (c.kubernetes.backups[0].params.paths = ['/a', '/b']),
      'config.kubernetes.backups.0.params.paths',
      '["/a","/b"]',
      'string',
    ],
    [
      'backup namespace outside allowedNamespaces',
      (c) => (c.kubernetes.backups[0].namespace = 'prod'),
      'config.kubernetes.backups.0.namespace',
      '"prod"',
      'grants roles only in allowedNamespaces (demo); add "prod" there or move the backup',
    ],
    [
      'restore from a backup that does not exist',
      (c) => (c.kubernetes.restores[0].from = 'nightly'),
      'config.kubernetes.restores.0.from',
      '"nightly"',
      'no backup "nightly" in namespace demo; name one of kubernetes.backups (demo/sample-backup-daemon)',
    ],
    [
      'restore from a backup in another namespace',
      (c) => {
        c.allowedNamespaces.push('other');
        c.kubernetes.restores[0].namespace = 'other';
      },
      'config.kubernetes.restores.0.from',
      '"sample-backup-daemon"',
      'no backup "sample-backup-daemon" in namespace other',
    ],
    [
      'unknown restore task',
      (c) => (c.kubernetes.restores[0].task = 'restore'),
      'config.kubernetes.restores.0.task',
      '"restore"',
      'no restore task "restore"; use one of logical-backup-restore, manifest-restore',
    ],
    [
      'restore parameter only backups take',
      (c) => (c.kubernetes.restores[0].params = { paths: '/data' }),
      'config.kubernetes.restores.0.params.paths',
      '"/data"',
      'takes no parameter "paths"; it takes exclude, include',
    ],
    [
      'unknown addon',
      (c) => (c.kubernetes.backups[0].addon = 'postgres'),
      'config.kubernetes.backups.0.addon',
      '"postgres"',
      'unknown addon "postgres"; use one of cassandra-addon',
    ],
    [
      'kind no addon backs up',
      (c) => (c.kubernetes.backups[0].target.kind = 'CronJob'),
      'config.kubernetes.backups.0.target.kind',
      '"CronJob"',
      'no known addon backs up kind CronJob',
    ],
    [
      'cron with four fields',
      (c) => (c.kubernetes.backups[0].schedule = '*/5 * * *'),
      'config.kubernetes.backups.0.schedule',
      '"*/5 * * *"',
      'has 4 fields; write five (minute hour day-of-month month day-of-week)',
    ],
    [
      'cron with seconds',
      (c) => (c.kubernetes.backups[0].schedule = '0 */5 * * * *'),
      'config.kubernetes.backups.0.schedule',
      '"0 */5 * * * *"',
      'has 6 fields; write five',
    ],
    [
      'cron minute out of range',
      (c) => (c.kubernetes.backups[0].schedule = '61 * * * *'),
      'config.kubernetes.backups.0.schedule',
      '"61 * * * *"',
      'minute "61": "61" is outside 0-59',
    ],
    [
      'cron backwards range',
      (c) => (c.kubernetes.backups[0].schedule = '0 5-1 * * MON-FRI'),
      'config.kubernetes.backups.0.schedule',
      '"0 5-1 * * MON-FRI"',
      'hour "5-1": range "5-1" runs backwards',
    ],
    [
      'cron unknown day name',
      (c) => (c.kubernetes.backups[0].schedule = '0 3 * * MON-FUN'),
      'config.kubernetes.backups.0.schedule',
      '"0 3 * * MON-FUN"',
      'day of week "MON-FUN": "MON-FUN" is outside 0-7 (or SUN-SAT)',
    ],
    [
      'retention period in words',
      (c) => (c.kubernetes.retention.maxRetentionPeriod = '2 months'),
      'config.kubernetes.retention.maxRetentionPeriod',
      '"2 months"',
      'units y, mo, w, d, h, m',
    ],
    [
      'retention period of zero days',
      (c) => (c.kubernetes.retention.maxRetentionPeriod = '0d'),
      'config.kubernetes.retention.maxRetentionPeriod',
      '"0d"',
      '"30d", "2mo"',
    ],
    [
      'keeping no successful snapshot',
      (c) => (c.kubernetes.retention.successfulSnapshots.last = 0),
      'config.kubernetes.retention.successfulSnapshots.last',
      '0',
      'keep at least 1 snapshot',
    ],
    [
      'retry delay in words',
      (c) => (c.kubernetes.backups[0].retry.delay = '1 minute'),
      'config.kubernetes.backups.0.retry.delay',
      '"1 minute"',
      'such as 1m or 30s',
    ],
    [
      'misspelled storage field',
      (c) => (c.kubernetes.storage.bukcet = 'x'),
      'config.kubernetes.storage.bukcet',
      '"x"',
      'unknown key "bukcet"; remove it (known keys here: name,',
    ],
    [
      'unknown usableFrom',
      (c) => (c.kubernetes.storage.usableFrom = 'Everywhere'),
      'config.kubernetes.storage.usableFrom',
      '"Everywhere"',
      '"AllowedNamespaces" (the namespaces in allowedNamespaces)',
    ],
    [
      'storage sub-prefix with a leading slash',
      (c) => (c.kubernetes.storage.subPrefix = '/team-a'),
      'config.kubernetes.storage.subPrefix',
      '"/team-a"',
      'without leading or trailing "/"',
    ],
    [
      'restic password variable that is not a name',
      (c) => (c.kubernetes.encryptionSecret.fromEnvironment = '$RESTIC'),
      'config.kubernetes.encryptionSecret.fromEnvironment',
      '"$RESTIC"',
      'name an environment variable',
    ],
    [
      'duplicate backup names',
      (c) => c.kubernetes.backups.push(structuredClone(c.kubernetes.backups[0])),
      'config.kubernetes.backups.1',
      'demo/sample-backup-daemon',
      'appears twice',
    ],
    [
      'manifests for an unknown cluster',
      (c) => (c.kubernetes.cluster = 'staging'),
      'config.kubernetes.cluster',
      '"staging"',
      'use one of prod-cluster',
    ],
    [
      'operator on an unknown seed',
      (c) => (c.kubernetes.seed = 'Other'),
      'config.kubernetes.seed',
      '"Other"',
      'use one of KubestashRole',
    ],
    [
      'reconciler group in capitals',
      (c) => (c.kubernetes.reconcilerGroup = 'KubeStash'),
      'config.kubernetes.reconcilerGroup',
      '"KubeStash"',
      'lowercase',
    ],
    [
      'database dump without cluster when two are configured',
      (c) => {
        c.clusters.push(STAGING);
        delete c.databaseDumps[0].cluster;
      },
      'config.databaseDumps.0.cluster',
      'got nothing',
      'say which one runs this dump (prod-cluster, staging)',
    ],
    [
      'database dump on an unknown cluster',
      (c) => (c.databaseDumps[0].cluster = 'staging'),
      'config.databaseDumps.0.cluster',
      '"staging"',
      'use one of prod-cluster',
    ],
    [
      'database dump role name too long',
      (c) => {
        c.stackName = 'S'.repeat(50);
        c.databaseDumps[0].name = 'app-database';
      },
      'config.databaseDumps.0.roleName',
      `"${'S'.repeat(50)}-dump-app-database"`,
      "longer than IAM's 64 characters; set roleName explicitly",
    ],
    [
      'database dump role named like a seed',
      (c) => (c.databaseDumps[0].roleName = 'KubestashRole'),
      'config.databaseDumps.0.roleName',
      '"KubestashRole"',
      'already taken by config.seeds.0.name',
    ],
    [
      'database dump image on :latest',
      (c) => (c.databaseDumps[0].dumpImage = 'postgres:latest'),
      'config.databaseDumps.0.dumpImage',
      '"postgres:latest"',
      'pin a version',
    ],
    [
      'database dump with a bad cron',
      (c) => (c.databaseDumps[0].schedule = 'every 2 hours'),
      'config.databaseDumps.0.schedule',
      '"every 2 hours"',
      'has 3 fields; write five',
    ],
    [
      'database dump with a bad quantity',
      (c) => (c.databaseDumps[0].resources = { limits: { memory: '512MB' } }),
      'config.databaseDumps.0.resources.limits.memory',
      '"512MB"',
      'such as 100m or 512Mi',
    ],
    [
      'database dump secret that is not a Secrets Manager ARN',
      (c) => (c.databaseDumps[0].secretArn = 'prod/app-db'),
      'config.databaseDumps.0.secretArn',
      '"prod/app-db"',
      'ARN of the Secrets Manager secret',
    ],
  ];

  test.each(cases)(
    'rejects %s, naming the field, the value and the fix',
    (_name, modify, field, value, fix) => {
      const error = errorFor(modify);
      const line = error.problems.find((p) => p.startsWith(`${field}:`));
      expect({ problems: error.problems, found: line !== undefined }).toMatchObject({
        found: true,
      });
      expect(line).toContain(value);
      expect(line).toContain(fix);
    },
  );

  test('a dump with its cluster named is fine with two clusters', () => {
    const input = exampleConfigInput() as Mutable;
    input.clusters.push(STAGING);
    input.databaseDumps[0].cluster = 'staging';
    expect(loadConfig({ config: input as ProjectConfigInput }).databaseDumps[0].cluster).toBe(
      'staging',
    );
  });

  test('KubeDB tasks and params are accepted as the addon catalog names them', () => {
    const input = exampleConfigInput() as Mutable;
    input.kubernetes.backups.push({
      name: 'pg',
      namespace: 'demo',
      target: { kind: 'Postgres', name: 'app-db' },
      schedule: '@daily',
      task: 'physical-backup',
      params: { args: '--verbose', backupCmd: 'pg_basebackup', user: 'postgres' },
    });
    input.kubernetes.restores.push({
      name: 'pg-restore',
      from: 'pg',
      namespace: 'demo',
      task: 'physical-backup-restore',
      params: { restoreCmd: 'pg_restore', restorePath: '/var/pv' },
    });
    const config = loadConfig({ config: input as ProjectConfigInput });
    expect(config.kubernetes.backups[1].target.apiGroup).toBeUndefined();
    expect(config.kubernetes.restores[1].task).toBe('physical-backup-restore');
  });
});
