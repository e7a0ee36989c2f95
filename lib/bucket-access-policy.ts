import { Aws, Stack } from 'aws-cdk-lib';
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
        ...veleroSnapshotStatements(Stack.of(backupBucket)),
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

/**
 * The tag Velero puts on every EBS snapshot it takes (the backup's name) and
 * that its AWS plugin copies onto every volume it restores from one: Velero's
 * `takePVSnapshot` (vmware-tanzu/velero `pkg/backup/item_backupper.go`) passes
 * `velero.io/backup` and `velero.io/pv` with the backup's labels, and the
 * plugin (vmware-tanzu/velero-plugin-for-aws `volume_snapshotter.go`) sends
 * them as CreateSnapshot's TagSpecifications, and the snapshot's tags as
 * CreateVolume's.
 */
export const VELERO_BACKUP_TAG = 'velero.io/backup';

/**
 * Velero's EBS snapshot calls, each scoped as far as EC2 allows (Service
 * Authorization Reference, Amazon EC2:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html):
 * - DescribeVolumes/DescribeSnapshots support no resource-level permissions: `*`;
 * - CreateSnapshot is authorized on the volume (any volume of the account:
 *   Velero snapshots the PersistentVolumes it finds, whose EBS tags depend on
 *   the provisioner) and on the new snapshot, which must carry `velero.io/backup`;
 * - CreateTags only as part of CreateSnapshot or CreateVolume (`ec2:CreateAction`),
 *   so no existing snapshot can be given Velero's tag and then deleted;
 * - DeleteSnapshot only of snapshots that carry `velero.io/backup`;
 * - CreateVolume only from such snapshots, and only tagged so.
 * Snapshot ARNs have no account (`arn:<partition>:ec2:<region>::snapshot/<id>`);
 * regions are `*`, since a snapshot location may name another region.
 */
function veleroSnapshotStatements(stack: Stack): iam.PolicyStatement[] {
  const volumes = `arn:${Aws.PARTITION}:ec2:*:${stack.account}:volume/*`;
  const snapshots = `arn:${Aws.PARTITION}:ec2:*::snapshot/*`;
  const tagged = (key: string) => ({ Null: { [`${key}/${VELERO_BACKUP_TAG}`]: 'false' } });
  return [
    new iam.PolicyStatement({
      sid: 'DescribeVolumesAndSnapshots',
      actions: ['ec2:DescribeVolumes', 'ec2:DescribeSnapshots'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'SnapshotVolumes',
      actions: ['ec2:CreateSnapshot'],
      resources: [volumes],
    }),
    new iam.PolicyStatement({
      sid: 'CreateVeleroSnapshots',
      actions: ['ec2:CreateSnapshot'],
      resources: [snapshots],
      conditions: tagged('aws:RequestTag'),
    }),
    new iam.PolicyStatement({
      sid: 'TagOnlyWhileCreating',
      actions: ['ec2:CreateTags'],
      resources: [volumes, snapshots],
      conditions: { StringEquals: { 'ec2:CreateAction': ['CreateSnapshot', 'CreateVolume'] } },
    }),
    new iam.PolicyStatement({
      sid: 'DeleteVeleroSnapshots',
      actions: ['ec2:DeleteSnapshot'],
      resources: [snapshots],
      conditions: tagged('ec2:ResourceTag'),
    }),
    new iam.PolicyStatement({
      sid: 'RestoreFromVeleroSnapshots',
      actions: ['ec2:CreateVolume'],
      resources: [snapshots],
      conditions: tagged('ec2:ResourceTag'),
    }),
    new iam.PolicyStatement({
      sid: 'CreateRestoredVolumes',
      actions: ['ec2:CreateVolume'],
      resources: [volumes],
      conditions: tagged('aws:RequestTag'),
    }),
  ];
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
          'Velero snapshots EBS volumes it discovers at run time (any volume of the account, in any region its snapshot location names); EC2 Describe* calls support no resource-level permissions; new snapshots and volumes must carry, and deleted snapshots already carry, the velero.io/backup tag (seed 003, docs/security.md).',
          (key) => key === 'Resource::*' || /:(volume|snapshot)\/\*$/.test(key),
        )
      : [];
  return [...objects, ...ec2];
}
