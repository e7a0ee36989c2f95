import { CfnResource, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { CfnCondition } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** The folder, under the backup prefix, where jobs write and delete probe objects. */
export const ACCESS_CHECK_FOLDER = '.kubestash-irsa-access-check';

export type BucketEncryption = 's3-managed' | 'kms';

export interface BackupBucketProps {
  /** The bucket's name; known before deploy so the manifests can name it too. */
  readonly bucketName: string;

  /**
   * Import a bucket that already exists instead of creating one.
   * @default false
   */
  readonly existing?: boolean;

  /**
   * Where KubeStash writes under the bucket (the BackupStorage `prefix`), without
   * leading or trailing `/`.
   * @default '' (the bucket root)
   */
  readonly prefix?: string;

  /**
   * Decide at deploy time instead of by `existing`: the bucket (with its
   * access-log bucket and their policies) is created only where this
   * condition holds, and everything else names it by `bucketName`, so the
   * same template serves a new or an existing bucket (the console parameter
   * BucketMode of `npm run package`). A new KMS key cannot be conditional
   * this way: with `encryption: 'kms'` pass `encryptionKey`.
   * @default - `existing` decides at synth time
   */
  readonly createCondition?: CfnCondition;

  /**
   * Server-side encryption.
   * @default 's3-managed'
   */
  readonly encryption?: BucketEncryption;

  /**
   * The KMS key for `encryption: 'kms'`.
   * @default a new customer-managed key with yearly rotation (new buckets only)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Write S3 server access logs to a separate bucket.
   * @default true
   */
  readonly accessLogging?: boolean;

  /**
   * How long the probe objects that jobs write to check access may live.
   * @default Duration.days(1)
   */
  readonly accessCheckExpiration?: Duration;

  /**
   * When to abort multipart uploads that a crashed backup left behind.
   * @default Duration.days(7)
   */
  readonly incompleteUploadExpiration?: Duration;

  /**
   * How long an overwritten or deleted object version is kept. restic prunes by
   * deleting objects, so without this, versioning would keep every pruned pack.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration;
}

/**
 * The S3 bucket that holds the restic repositories: private, TLS-only,
 * encrypted, versioned, and kept when the stack is deleted.
 */
export class BackupBucket extends Construct {
  readonly bucket: s3.IBucket;
  /** The key objects are encrypted with, when the bucket uses SSE-KMS. */
  readonly encryptionKey?: kms.IKey;
  /** The backup prefix, without slashes at either end ('' for the root). */
  readonly prefix: string;
  /** The key prefix under which probe objects are written, ending in `/`. */
  readonly accessCheckPrefix: string;

  constructor(scope: Construct, id: string, props: BackupBucketProps) {
    super(scope, id);
    const prefix = props.prefix ?? '';
    if (prefix.startsWith('/') || prefix.endsWith('/')) {
      throw new Error(
        `BackupBucket prefix "${prefix}" must not start or end with "/"; write it as KubeStash's BackupStorage does, e.g. "ace/production/backups"`,
      );
    }
    const encryption = props.encryption ?? 's3-managed';
    if (props.encryptionKey !== undefined && encryption !== 'kms') {
      throw new Error(
        `BackupBucket: an encryptionKey needs encryption: 'kms' (got '${encryption}')`,
      );
    }
    this.prefix = prefix;
    this.accessCheckPrefix = `${prefix === '' ? '' : `${prefix}/`}${ACCESS_CHECK_FOLDER}/`;

    if (props.createCondition !== undefined && encryption === 'kms' && !props.encryptionKey) {
      throw new Error(
        `BackupBucket: a bucket created on a condition (createCondition) cannot get a new KMS key that an existing bucket would not have; set bucket.kmsKeyArn in the config or use encryption "s3-managed"`,
      );
    }
    if (props.existing ?? false) {
      if (encryption === 'kms' && props.encryptionKey === undefined) {
        throw new Error(
          `BackupBucket: the existing bucket "${props.bucketName}" uses KMS; pass its encryptionKey so access policies can use the key`,
        );
      }
      this.encryptionKey = props.encryptionKey;
      this.bucket = s3.Bucket.fromBucketAttributes(this, 'Imported', {
        bucketName: props.bucketName,
        encryptionKey: props.encryptionKey,
      });
      return;
    }

    this.encryptionKey =
      encryption === 'kms'
        ? (props.encryptionKey ??
          new kms.Key(this, 'Key', {
            description: `Encrypts the KubeStash backups in ${props.bucketName}`,
            enableKeyRotation: true,
            removalPolicy: RemovalPolicy.RETAIN,
          }))
        : undefined;

    const accessLogs = (props.accessLogging ?? true) ? this.createAccessLogBucket() : undefined;

    const created = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption:
        this.encryptionKey === undefined ? s3.BucketEncryption.S3_MANAGED : s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: this.encryptionKey !== undefined,
      versioned: true,
      // Backups must outlive the stack: `cdk destroy` must never take them along.
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: accessLogs === undefined ? undefined : 'backup-bucket/',
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: props.incompleteUploadExpiration ?? Duration.days(7),
        },
        {
          id: 'expire-access-checks',
          prefix: this.accessCheckPrefix,
          expiration: props.accessCheckExpiration ?? Duration.days(1),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
          expiredObjectDeleteMarker: true,
        },
      ],
    });
    this.bucket = created;
    const condition = props.createCondition;
    if (condition !== undefined) {
      for (const child of this.node.findAll()) {
        if (child instanceof CfnResource) child.cfnOptions.condition = condition;
      }
      // A reference to the conditional resource would break the template when
      // it is not created; the name is the same either way.
      this.bucket = s3.Bucket.fromBucketAttributes(this, 'ByName', {
        bucketName: props.bucketName,
        encryptionKey: this.encryptionKey,
      });
    }
  }

  /** `arn:…:s3:::bucket/prefix/*`, or every object when there is no prefix. */
  objectsArn(): string {
    return this.bucket.arnForObjects(this.prefix === '' ? '*' : `${this.prefix}/*`);
  }

  private createAccessLogBucket(): s3.Bucket {
    const logs = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // S3 log delivery cannot write to SSE-KMS buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself; logging it into itself would loop.',
    });
    return logs;
  }
}
