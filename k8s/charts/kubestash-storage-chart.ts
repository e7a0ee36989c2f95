import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { ManifestContext } from '../manifest-context';
import { ResticPasswordSecret } from '../kubestash/restic-password-secret';
import type { SecretReference } from '../kubestash/restic-password-secret';
import { S3BackupStorage } from '../kubestash/s3-backup-storage';
import { SnapshotRetentionPolicy } from '../kubestash/snapshot-retention-policy';
import { usagePolicy } from '../kubestash/usage-policy';

export interface KubestashStorageChartProps extends ChartProps {
  readonly context: ManifestContext;
  /**
   * The restic password, only when the config asks for the Secret to be
   * written (`encryptionSecret.fromEnvironment`); otherwise the Secret is
   * referenced and must exist.
   */
  readonly resticPassword?: string;
}

/** Where backups go and how long they stay: the BackupStorage, the RetentionPolicy and the encryption secret. */
export class KubestashStorageChart extends Chart {
  readonly storage: S3BackupStorage;
  readonly retentionPolicy: SnapshotRetentionPolicy;
  readonly encryptionSecret: SecretReference;

  constructor(scope: Construct, id: string, props: KubestashStorageChartProps) {
    super(scope, id, props);
    const { config } = props.context;
    const k = config.kubernetes;
    this.storage = new S3BackupStorage(this, 'Storage', {
      name: k.storage.name,
      namespace: props.context.storageNamespace,
      bucket: config.bucket.name,
      region: config.region,
      endpoint: props.context.s3Endpoint,
      prefix: props.context.storagePrefix,
      default: k.storage.default,
      deletionPolicy: k.storage.deletionPolicy,
      usagePolicy: usagePolicy(k.storage.usableFrom, config.allowedNamespaces),
    });
    this.retentionPolicy = new SnapshotRetentionPolicy(this, 'Retention', {
      name: k.retention.name,
      namespace: k.retention.namespace ?? props.context.storageNamespace,
      successfulSnapshots: k.retention.successfulSnapshots,
      failedSnapshotsToKeep: k.retention.failedSnapshots.last,
      maxRetentionPeriod: k.retention.maxRetentionPeriod,
      default: k.retention.default,
      usagePolicy: usagePolicy(k.retention.usableFrom, config.allowedNamespaces),
    });
    const secret = {
      name: k.encryptionSecret.name,
      namespace: k.encryptionSecret.namespace ?? props.context.storageNamespace,
    };
    this.encryptionSecret =
      props.resticPassword === undefined
        ? secret
        : new ResticPasswordSecret(this, 'EncryptionSecret', {
            ...secret,
            password: props.resticPassword,
          });
  }
}
