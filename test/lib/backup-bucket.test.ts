import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { BackupBucket } from '../../lib/backup-bucket';
import { BucketAccessPolicy } from '../../lib/bucket-access-policy';
import { newApp } from '../support/example-app';

function build(props: Partial<ConstructorParameters<typeof BackupBucket>[2]> = {}) {
  const stack = new Stack(newApp(), 'T');
  const backup = new BackupBucket(stack, 'Backups', {
    bucketName: 'kubestash-backups',
    prefix: 'ace/backups',
    ...props,
  });
  return { stack, backup, template: Template.fromStack(stack) };
}

function backupBucketResource(template: Template): Record<string, any> {
  const buckets = template.findResources('AWS::S3::Bucket', {
    Properties: { BucketName: 'kubestash-backups' },
  });
  const [resource] = Object.values(buckets);
  return resource;
}

describe('BackupBucket', () => {
  test('blocks all public access, is versioned and owner-enforced', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'kubestash-backups',
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  test('is retained when the stack is deleted', () => {
    const resource = backupBucketResource(build().template);
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
  });

  test('denies every request that is not over TLS 1.2+', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: Match.stringLikeRegexp('^BackupsBucket') },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
  });

  test('encrypts with S3-managed keys by default', () => {
    const resource = backupBucketResource(build().template);
    expect(resource.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      expect.objectContaining({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }),
    ]);
  });

  test('with KMS, creates a rotating key that is retained, and uses a bucket key', () => {
    const { template, backup } = build({ encryption: 'kms' });
    expect(backup.encryptionKey).toBeDefined();
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
    });
    const resource = backupBucketResource(template);
    expect(resource.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toMatchObject(
      {
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' },
        BucketKeyEnabled: true,
      },
    );
  });

  test('lifecycle: aborts stale multipart uploads, expires access checks under the prefix and old versions', () => {
    const resource = backupBucketResource(
      build({ noncurrentVersionExpiration: Duration.days(10) }).template,
    );
    expect(resource.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Id: 'abort-incomplete-multipart-uploads',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        }),
        expect.objectContaining({
          Id: 'expire-access-checks',
          Prefix: 'ace/backups/.kubestash-irsa-access-check/',
          ExpirationInDays: 1,
        }),
        expect.objectContaining({
          Id: 'expire-noncurrent-versions',
          NoncurrentVersionExpiration: { NoncurrentDays: 10 },
        }),
      ]),
    );
  });

  test('logs server access to a separate private bucket', () => {
    const { template } = build();
    const resource = backupBucketResource(template);
    expect(resource.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: expect.stringMatching(/^BackupsAccessLogs/) },
      LogFilePrefix: 'backup-bucket/',
    });
    template.resourceCountIs('AWS::S3::Bucket', 2);
    const withoutLogs = build({ accessLogging: false }).template;
    withoutLogs.resourceCountIs('AWS::S3::Bucket', 1);
    expect(backupBucketResource(withoutLogs).Properties.LoggingConfiguration).toBeUndefined();
  });

  test('an existing bucket is imported, not created', () => {
    const key = (stack: Stack) =>
      kms.Key.fromKeyArn(stack, 'K', 'arn:aws:kms:us-east-1:111122223333:key/abcd');
    const stack = new Stack(newApp(), 'T');
    const backup = new BackupBucket(stack, 'Backups', {
      bucketName: 'existing',
      existing: true,
      encryption: 'kms',
      encryptionKey: key(stack),
    });
    // A policy over the imported bucket names the bucket and its key, and nothing is created.
    new BucketAccessPolicy(stack, 'Access', { backupBucket: backup, preset: 'kubestash' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(JSON.stringify(template.toJSON())).toContain(
      'arn:aws:kms:us-east-1:111122223333:key/abcd',
    );
    expect(stack.resolve(backup.bucket.bucketName)).toBe('existing');
    expect(backup.accessCheckPrefix).toBe('.kubestash-irsa-access-check/');
  });

  test('objectsArn is scoped to the prefix', () => {
    const { stack, backup } = build();
    expect(JSON.stringify(stack.resolve(backup.objectsArn()))).toContain('/ace/backups/*');
  });

  test('bad props fail with the fix', () => {
    expect(() => build({ prefix: '/x/' })).toThrow(/must not start or end with "\/"/);
    const stack = new Stack(newApp(), 'T');
    expect(
      () => new BackupBucket(stack, 'B', { bucketName: 'b', existing: true, encryption: 'kms' }),
    ).toThrow(/pass its encryptionKey/);
  });
});
