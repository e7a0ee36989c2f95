import { Testing } from 'cdk8s';
import type { Chart } from 'cdk8s';
import { addonNamed } from '../../../k8s/kubestash/addon-catalog';
import type { Addon } from '../../../k8s/kubestash/addon-catalog';
import { ResticPasswordSecret } from '../../../k8s/kubestash/restic-password-secret';
import { S3BackupStorage } from '../../../k8s/kubestash/s3-backup-storage';
import { ScheduledBackup } from '../../../k8s/kubestash/scheduled-backup';
import type { ScheduledBackupProps } from '../../../k8s/kubestash/scheduled-backup';
import { SnapshotRestore } from '../../../k8s/kubestash/snapshot-restore';
import { SnapshotRetentionPolicy } from '../../../k8s/kubestash/snapshot-retention-policy';
import type { SnapshotRetentionPolicyProps } from '../../../k8s/kubestash/snapshot-retention-policy';
import { usagePolicy } from '../../../k8s/kubestash/usage-policy';

type KubeObject = Record<string, any>;

function only(chart: Chart, kind: string): KubeObject {
  const objects = (Testing.synth(chart) as KubeObject[]).filter((o) => o.kind === kind);
  expect(objects).toHaveLength(1);
  return objects[0];
}

function workloadAddon(): Addon {
  const addon = addonNamed('workload-addon');
  if (addon === undefined) throw new Error('workload-addon missing from the catalog');
  return addon;
}

const backupProps = (over: Partial<ScheduledBackupProps> = {}): ScheduledBackupProps => ({
  name: 'web',
  namespace: 'apps',
  target: { apiGroup: 'apps', kind: 'Deployment', name: 'web' },
  storage: { name: 's3-storage', namespace: 'demo' },
  retentionPolicy: { name: 'keep', namespace: 'demo' },
  encryptionSecret: { name: 'encrypt-secret', namespace: 'demo' },
  schedule: '*/30 * * * *',
  addon: workloadAddon(),
  params: { paths: '/data' },
  ...over,
});

describe('usagePolicy', () => {
  test('"AllowedNamespaces" is a selector on the namespace name label; All and Same pass through', () => {
    expect(usagePolicy('AllowedNamespaces', ['demo', 'apps'])).toEqual({
      allowedNamespaces: {
        from: 'Selector',
        selector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['demo', 'apps'] },
          ],
        },
      },
    });
    expect(usagePolicy('All', ['demo'])).toEqual({ allowedNamespaces: { from: 'All' } });
    expect(usagePolicy('Same', ['demo'])).toEqual({ allowedNamespaces: { from: 'Same' } });
  });
});

describe('S3BackupStorage', () => {
  const props = {
    name: 's3',
    namespace: 'demo',
    bucket: 'b',
    region: 'eu-west-1',
    usagePolicy: usagePolicy('Same', ['demo']),
  };

  test('defaults: regional endpoint, no prefix key, default storage, Delete', () => {
    const chart = Testing.chart();
    new S3BackupStorage(chart, 'S', props);
    expect(only(chart, 'BackupStorage').spec).toEqual({
      storage: {
        provider: 's3',
        s3: { bucket: 'b', region: 'eu-west-1', endpoint: 'https://s3.eu-west-1.amazonaws.com' },
      },
      default: true,
      deletionPolicy: 'Delete',
      usagePolicy: { allowedNamespaces: { from: 'Same' } },
    });
  });

  test.each(['/backups', 'backups/'])('refuses the prefix %s', (prefix) => {
    expect(() => new S3BackupStorage(Testing.chart(), 'S', { ...props, prefix })).toThrow(
      /must not start or end with "\/"/,
    );
  });
});

describe('SnapshotRetentionPolicy', () => {
  const props: SnapshotRetentionPolicyProps = {
    name: 'keep',
    namespace: 'demo',
    successfulSnapshots: { last: 5 },
    maxRetentionPeriod: '30d',
    usagePolicy: usagePolicy('All', []),
  };

  test('defaults: 2 failed snapshots kept, default policy', () => {
    const chart = Testing.chart();
    new SnapshotRetentionPolicy(chart, 'R', props);
    expect(only(chart, 'RetentionPolicy').spec).toEqual({
      default: true,
      successfulSnapshots: { last: 5 },
      failedSnapshots: { last: 2 },
      maxRetentionPeriod: '30d',
      usagePolicy: { allowedNamespaces: { from: 'All' } },
    });
  });

  test.each([
    [{ maxRetentionPeriod: '2 months' }, 'maxRetentionPeriod "2 months" is not a KubeStash period'],
    [{ maxRetentionPeriod: '0d' }, 'maxRetentionPeriod "0d" is not a KubeStash period'],
    [{ successfulSnapshots: { last: 0 } }, 'successfulSnapshots.last is 0'],
    [{ successfulSnapshots: { last: 5, daily: 1.5 } }, 'successfulSnapshots.daily is 1.5'],
    // The CRD types the counts as int32: the API server would refuse a larger one.
    [{ successfulSnapshots: { last: 2 ** 31 } }, 'keep a whole number from 1 to 2147483647'],
    [{ failedSnapshotsToKeep: -1 }, 'failedSnapshotsToKeep is -1'],
    [{ failedSnapshotsToKeep: 2 ** 31 }, 'failedSnapshotsToKeep is 2147483648'],
  ] as [Partial<SnapshotRetentionPolicyProps>, string][])('refuses %j', (over, message) => {
    expect(() => new SnapshotRetentionPolicy(Testing.chart(), 'R', { ...props, ...over })).toThrow(
      message,
    );
  });
});

describe('ResticPasswordSecret', () => {
  test('writes an Opaque Secret with RESTIC_PASSWORD, and refuses a short password', () => {
    const chart = Testing.chart();
    new ResticPasswordSecret(chart, 'P', {
      name: 'encrypt-secret',
      namespace: 'demo',
      password: 'p'.repeat(16),
    });
    expect(only(chart, 'Secret')).toMatchObject({
      type: 'Opaque',
      stringData: { RESTIC_PASSWORD: 'p'.repeat(16) },
    });
    expect(
      () =>
        new ResticPasswordSecret(Testing.chart(), 'P', {
          name: 'encrypt-secret',
          namespace: 'demo',
          password: 'p'.repeat(15),
        }),
    ).toThrow('the password has 15 characters; use at least 16');
  });
});

describe('ScheduledBackup and SnapshotRestore', () => {
  test('defaults: session "scheduled", repository <name>-repo, directory /<namespace>/<target>', () => {
    const chart = Testing.chart();
    new ScheduledBackup(chart, 'B', backupProps());
    const session = only(chart, 'BackupConfiguration').spec.sessions[0];
    expect(session.name).toBe('scheduled');
    expect(session.repositories).toEqual([
      {
        name: 'web-repo',
        backend: 's3-backend',
        directory: '/apps/web',
        encryptionSecret: { name: 'encrypt-secret', namespace: 'demo' },
      },
    ]);
    expect(session.retryConfig).toEqual({ maxRetry: 2, delay: '1m' });
    expect(session.scheduler.jobTemplate).toEqual({ backoffLimit: 1 });
  });

  test('no retries is no retryConfig (the CRD requires maxRetry >= 1)', () => {
    const chart = Testing.chart();
    new ScheduledBackup(chart, 'B', backupProps({ retry: { maxRetry: 0, delay: '1m' } }));
    expect(only(chart, 'BackupConfiguration').spec.sessions[0]).not.toHaveProperty('retryConfig');
  });

  test('references may be constructs: a written ResticPasswordSecret is referenced by name', () => {
    // Spreading a construct copied its `node`, which cdk8s cannot serialize.
    const chart = Testing.chart();
    const secret = new ResticPasswordSecret(chart, 'P', {
      name: 'restic',
      namespace: 'demo',
      password: 'p'.repeat(20),
    });
    const storage = new S3BackupStorage(chart, 'S', {
      name: 's3',
      namespace: 'demo',
      bucket: 'b',
      region: 'eu-west-1',
      usagePolicy: usagePolicy('All', []),
    });
    const backup = new ScheduledBackup(
      chart,
      'B',
      backupProps({ encryptionSecret: secret, storage }),
    );
    new SnapshotRestore(chart, 'R', {
      name: 'web-restore',
      backup,
      target: { apiGroup: 'apps', kind: 'Deployment', name: 'web' },
      encryptionSecret: secret,
    });
    const backend = only(chart, 'BackupConfiguration').spec.backends[0];
    expect(backend.storageRef).toEqual({ name: 's3', namespace: 'demo' });
    expect(only(chart, 'RestoreSession').spec.dataSource).toEqual({
      repository: 'web-repo',
      snapshot: 'latest',
      encryptionSecret: { name: 'restic', namespace: 'demo' },
    });
  });

  test('refuses an addon for another kind, an unknown task and a missing param', () => {
    const postgres = addonNamed('postgres-addon');
    expect(
      () => new ScheduledBackup(Testing.chart(), 'B', backupProps({ addon: postgres })),
    ).toThrow('postgres-addon backs up Postgres, not Deployment');
    expect(() => new ScheduledBackup(Testing.chart(), 'B', backupProps({ task: 'full' }))).toThrow(
      'task: workload-addon has no backup task "full"',
    );
    expect(() => new ScheduledBackup(Testing.chart(), 'B', backupProps({ params: {} }))).toThrow(
      'params: workload-addon task logical-backup needs the parameter "paths"',
    );
  });

  test('a restore refuses a task or param its addon does not have', () => {
    const chart = Testing.chart();
    const backup = new ScheduledBackup(chart, 'B', backupProps());
    const restore = (over: { task?: string; params?: Record<string, string> }) => () =>
      new SnapshotRestore(chart, `R${JSON.stringify(over).length}`, {
        name: 'web-restore',
        backup,
        target: { apiGroup: 'apps', kind: 'Deployment', name: 'web' },
        encryptionSecret: { name: 'encrypt-secret', namespace: 'demo' },
        ...over,
      });
    expect(restore({ task: 'physical-backup-restore' })).toThrow(
      'workload-addon has no restore task "physical-backup-restore"',
    );
    expect(restore({ params: { paths: '/data' } })).toThrow('takes no parameter "paths"');
  });
});
