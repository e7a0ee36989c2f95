import { Construct } from 'constructs';
import {
  BackupStorage,
  BackupStorageSpecDeletionPolicy,
  BackupStorageSpecUsagePolicyAllowedNamespacesFrom as From,
} from '../imports/storage.kubestash.com';
import { selectorJson } from './usage-policy';
import type { UsagePolicy } from './usage-policy';

const FROM = { All: From.ALL, Same: From.SAME, Selector: From.SELECTOR } as const;

export interface S3BackupStorageProps {
  readonly name: string;
  readonly namespace: string;
  readonly bucket: string;
  readonly region: string;
  /** @default the regional endpoint, https://s3.<region>.amazonaws.com */
  readonly endpoint?: string;
  /** Folder in the bucket, without slashes at either end. @default '' (the bucket root) */
  readonly prefix?: string;
  /** Whether BackupConfigurations that name no storage use this one. @default true */
  readonly default?: boolean;
  /**
   * `Delete` keeps the backed-up data in S3 when the BackupStorage is deleted;
   * `WipeOut` deletes it too.
   * @default 'Delete'
   */
  readonly deletionPolicy?: 'Delete' | 'WipeOut';
  readonly usagePolicy: UsagePolicy;
}

/**
 * A KubeStash BackupStorage on S3 with no `secretName`: the operator and the
 * backup Jobs authenticate through IRSA, so there is no key to store.
 */
export class S3BackupStorage extends Construct {
  readonly name: string;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: S3BackupStorageProps) {
    super(scope, id);
    const prefix = props.prefix ?? '';
    if (prefix.startsWith('/') || prefix.endsWith('/')) {
      throw new Error(
        `S3BackupStorage ${props.name}: prefix "${prefix}" must not start or end with "/"; KubeStash joins it to the repository directory itself`,
      );
    }
    this.name = props.name;
    this.namespace = props.namespace;
    new BackupStorage(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        storage: {
          provider: 's3',
          s3: {
            bucket: props.bucket,
            region: props.region,
            endpoint: props.endpoint ?? `https://s3.${props.region}.amazonaws.com`,
            ...(prefix === '' ? {} : { prefix }),
          },
        },
        default: props.default ?? true,
        deletionPolicy:
          props.deletionPolicy === 'WipeOut'
            ? BackupStorageSpecDeletionPolicy.WIPE_OUT
            : BackupStorageSpecDeletionPolicy.DELETE,
        usagePolicy: {
          allowedNamespaces: {
            from: FROM[props.usagePolicy.allowedNamespaces.from],
            selector: selectorJson(props.usagePolicy),
          },
        },
      },
    });
  }
}
