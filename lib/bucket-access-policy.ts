import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { AccessPolicyPreset } from './config/project-config';
import type { BackupBucket } from './backup-bucket';
import { acknowledgeWildcardResources } from './nag-acknowledgments';

export interface BucketAccessPolicyProps {
  readonly backupBucket: BackupBucket;

  /**
   * What the jobs that use the policy do:
   * - `kubestash`: restic repositories read and written by KubeStash (seed 000);
   * - `velero`: Velero with EBS snapshots (seed 003);
   * - `database-dump`: a dump job that uploads files and reads its database
   *   credentials from Secrets Manager (seed 001).
   */
  readonly preset: AccessPolicyPreset;

  /**
   * Limit object access to the backup prefix and ListBucket to keys under it.
   * @default false
   */
  readonly restrictToPrefix?: boolean;

  /**
   * Secrets Manager secrets the `database-dump` preset may read.
   * @default []
   */
  readonly secretArns?: readonly string[];

  /**
   * @default a name CloudFormation generates
   */
  readonly managedPolicyName?: string;

  /** @default a description naming the preset and the bucket */
  readonly description?: string;
}

/**
 * The managed policy a seed role (and so each of its derived roles) carries:
 * what a backup or restore Job may do with the bucket.
 */
export class BucketAccessPolicy extends Construct {
  readonly policy: iam.ManagedPolicy;
  /** The statements of the policy; the permissions boundary repeats them. */
  readonly statements: readonly iam.PolicyStatement[];

  constructor(scope: Construct, id: string, props: BucketAccessPolicyProps) {
    super(scope, id);
    const secretArns = props.secretArns ?? [];
    if (props.preset === 'database-dump' && secretArns.length === 0) {
      throw new Error(
        `BucketAccessPolicy ${id}: the database-dump preset needs secretArns, the Secrets Manager secrets holding the database credentials`,
      );
    }
    if (props.preset !== 'database-dump' && secretArns.length > 0) {
      throw new Error(
        `BucketAccessPolicy ${id}: secretArns only apply to the database-dump preset, not '${props.preset}'`,
      );
    }
    this.statements = accessStatements(props);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: props.managedPolicyName,
      description:
        props.description ??
        `${props.preset} access to s3://${props.backupBucket.bucket.bucketName}/${props.backupBucket.prefix}`,
      statements: [...this.statements],
    });
    suppressObjectWildcards(this, this.statements, props.preset);
  }
}

/** Statements for one preset, shared with the permissions boundary. */
export function accessStatements(props: BucketAccessPolicyProps): iam.PolicyStatement[] {
  const { backupBucket } = props;
  const restrict = props.restrictToPrefix ?? false;
  const objects = restrict ? backupBucket.objectsArn() : backupBucket.bucket.arnForObjects('*');
  const listBucket = new iam.PolicyStatement({
    sid: 'ListBackups',
    actions: ['s3:ListBucket'],
    resources: [backupBucket.bucket.bucketArn],
    conditions:
      restrict && backupBucket.prefix !== ''
        ? { StringLike: { 's3:prefix': [backupBucket.prefix, `${backupBucket.prefix}/*`] } }
        : undefined,
  });

  const statements: iam.PolicyStatement[] = [];
  switch (props.preset) {
    case 'kubestash':
      statements.push(
        new iam.PolicyStatement({
          sid: 'LocateBucket',
          actions: ['s3:GetBucketLocation'],
          resources: [backupBucket.bucket.bucketArn],
        }),
        listBucket,
        new iam.PolicyStatement({
          sid: 'ReadWriteBackups',
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          resources: [objects],
        }),
      );
      break;
    case 'velero':
      statements.push(
        new iam.PolicyStatement({
          sid: 'VolumeSnapshots',
          actions: [
            'ec2:DescribeVolumes',
            'ec2:DescribeSnapshots',
            'ec2:CreateTags',
            'ec2:CreateVolume',
            'ec2:CreateSnapshot',
            'ec2:DeleteSnapshot',
          ],
          resources: ['*'],
        }),
        listBucket,
        new iam.PolicyStatement({
          sid: 'ReadWriteBackups',
          actions: [
            's3:GetObject',
            's3:DeleteObject',
            's3:PutObject',
            's3:AbortMultipartUpload',
            's3:ListMultipartUploadParts',
          ],
          resources: [objects],
        }),
      );
      break;
    case 'database-dump':
      // Seed 001 also grants s3:PutObjectAcl; the bucket enforces bucket-owner
      // object ownership, so ACLs are disabled and that permission would be dead.
      statements.push(
        new iam.PolicyStatement({
          sid: 'UploadDumps',
          actions: ['s3:PutObject'],
          resources: [objects],
        }),
        new iam.PolicyStatement({
          sid: 'ReadDatabaseCredentials',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [...(props.secretArns ?? [])],
        }),
      );
      break;
  }
  if (backupBucket.encryptionKey !== undefined) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'UseBucketKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [backupBucket.encryptionKey.keyArn],
      }),
    );
  }
  return statements;
}

/** Acknowledges, finding by finding, the wildcards a preset needs. */
export function suppressObjectWildcards(
  owner: Construct,
  statements: readonly iam.PolicyStatement[],
  preset: AccessPolicyPreset,
): string[] {
  const objects = acknowledgeWildcardResources(
    owner,
    statements,
    'restic writes content-addressed objects whose keys are unknown in advance, so object access is granted under the bucket (or its prefix) by wildcard.',
    (key) => key.endsWith('/*'),
  );
  const ec2 =
    preset === 'velero'
      ? acknowledgeWildcardResources(
          owner,
          statements.filter((s) => s.actions.every((a) => a.startsWith('ec2:'))),
          'Velero snapshots EBS volumes it discovers at run time; EC2 Describe* calls support no resource-level permissions (seed 003).',
          (key) => key === 'Resource::*',
        )
      : [];
  return [...objects, ...ec2];
}
