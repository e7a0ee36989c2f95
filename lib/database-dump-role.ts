import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { BackupBucket } from './backup-bucket';
import type { ClusterOidcProvider } from './cluster-oidc-provider';
import { irsaPrincipal, serviceAccountSubject } from './irsa-principal';
import { joinKeyPrefix } from './config/key-prefix';
import { acknowledgeWildcardResources } from './nag-acknowledgments';

export interface DatabaseDumpRoleProps {
  /** Fixed, so the cdk8s app can annotate the ServiceAccount before the stack is deployed. */
  readonly roleName: string;
  readonly provider: ClusterOidcProvider;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly backupBucket: BackupBucket;
  /** Folder under the bucket's backup prefix where the dumps land, without slashes at either end. */
  readonly subPrefix: string;
  /** The Secrets Manager secret with the database's username, password, host and port. */
  readonly secretArn: string;
  /**
   * The customer managed KMS key the secret is encrypted with.
   * @default the AWS managed key (no KMS permission needed)
   */
  readonly secretKmsKeyArn?: string;
  /** @default none */
  readonly permissionsBoundary?: iam.IManagedPolicy;
}

/**
 * The IRSA role of one database dump CronJob (seed 001): trusted by exactly
 * one ServiceAccount (`StringEquals`, not a pattern), allowed to read one
 * secret and to put objects under its own folder of the bucket, nothing else.
 * Unlike KubeStash's Jobs, the dump's ServiceAccount is stable, so it needs no
 * derived role and no reconciler.
 */
export class DatabaseDumpRole extends Construct {
  readonly role: iam.Role;
  /** The key prefix the role may write under, without a trailing slash. */
  readonly keyPrefix: string;

  constructor(scope: Construct, id: string, props: DatabaseDumpRoleProps) {
    super(scope, id);
    if (
      props.subPrefix === '' ||
      props.subPrefix.startsWith('/') ||
      props.subPrefix.endsWith('/')
    ) {
      throw new Error(
        `DatabaseDumpRole ${props.roleName}: subPrefix "${props.subPrefix}" must be a folder without slashes at either end, e.g. database-dumps/app`,
      );
    }
    const { backupBucket } = props;
    this.keyPrefix = joinKeyPrefix(backupBucket.prefix, props.subPrefix);

    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: `Database dump ${props.namespace}/${props.serviceAccount}: reads one secret, uploads to s3://${backupBucket.bucket.bucketName}/${this.keyPrefix}/`,
      assumedBy: irsaPrincipal(this, 'Trust', {
        provider: props.provider.provider,
        issuer: props.provider.issuer,
        subjects: [serviceAccountSubject(props.namespace, props.serviceAccount)],
        operator: 'StringEquals',
      }),
      permissionsBoundary: props.permissionsBoundary,
    });

    const upload = new iam.PolicyStatement({
      sid: 'UploadDumps',
      // Seed 001 also grants s3:PutObjectAcl; the bucket disables ACLs, so it would be dead.
      actions: ['s3:PutObject'],
      resources: [backupBucket.bucket.arnForObjects(`${this.keyPrefix}/*`)],
    });
    const statements = [
      upload,
      new iam.PolicyStatement({
        sid: 'ReadDatabaseCredentials',
        // Seed 001 also grants secretsmanager:ListSecrets on "*"; the CSI driver fetches by ARN and does not need it.
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [props.secretArn],
      }),
    ];
    if (props.secretKmsKeyArn !== undefined) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'DecryptSecret',
          actions: ['kms:Decrypt'],
          resources: [props.secretKmsKeyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
            },
          },
        }),
      );
    }
    if (backupBucket.encryptionKey !== undefined) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'EncryptUploads',
          // aws s3 cp uploads files over 8 MB in parts, and completing a multipart
          // upload under SSE-KMS needs Decrypt as well as GenerateDataKey.
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [backupBucket.encryptionKey.keyArn],
        }),
      );
    }
    const policy = new iam.Policy(this, 'Policy', { statements });
    this.role.attachInlinePolicy(policy);
    acknowledgeWildcardResources(
      policy,
      [upload],
      'dump files are named by the time they are taken, so uploads are allowed under the dump folder by wildcard; the folder is the dump’s own.',
      (key) => key.endsWith('/*'),
    );
  }
}
