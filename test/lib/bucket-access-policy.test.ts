import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BackupBucket } from '../../lib/backup-bucket';
import { BucketAccessPolicy } from '../../lib/bucket-access-policy';
import type { BucketAccessPolicyProps } from '../../lib/bucket-access-policy';
import { newApp } from '../support/example-app';

interface Statement {
  Sid: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function statements(
  props: Omit<BucketAccessPolicyProps, 'backupBucket'>,
  encryption: 's3-managed' | 'kms' = 's3-managed',
): Statement[] {
  const stack = new Stack(newApp(), 'T');
  const backupBucket = new BackupBucket(stack, 'B', {
    bucketName: 'backups',
    prefix: 'ace/backups',
    encryption,
    accessLogging: false,
  });
  new BucketAccessPolicy(stack, 'P', { backupBucket, ...props });
  const policies = Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy');
  const [policy] = Object.values(policies);
  return policy.Properties.PolicyDocument.Statement as Statement[];
}

const actions = (s: Statement[]) =>
  s.flatMap((x) => (Array.isArray(x.Action) ? x.Action : [x.Action])).sort();

describe('BucketAccessPolicy', () => {
  test('kubestash preset grants exactly what seed 000 grants', () => {
    expect(actions(statements({ preset: 'kubestash' }))).toEqual(
      [
        's3:DeleteObject',
        's3:GetBucketLocation',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ].sort(),
    );
  });

  test('velero preset adds EBS snapshots and multipart clean-up (seed 003)', () => {
    const granted = actions(statements({ preset: 'velero' }));
    expect(granted).toEqual(
      expect.arrayContaining([
        'ec2:CreateSnapshot',
        'ec2:DeleteSnapshot',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ]),
    );
    expect(granted).not.toContain('s3:GetBucketLocation');
  });

  test('velero preset: EC2 scoped by resource and by the velero.io/backup tag wherever EC2 allows it (issue 12 point 4)', () => {
    const s = statements({ preset: 'velero' });
    const bySid = (sid: string) => {
      const found = s.find((x) => x.Sid === sid);
      if (found === undefined) throw new Error(`no statement ${sid}`);
      return JSON.parse(JSON.stringify(found).replaceAll(/\{"Ref":"AWS::Partition"\}/g, '"aws"'));
    };
    const ec2 = s.filter((x) =>
      (Array.isArray(x.Action) ? x.Action : [x.Action]).some((a) => a.startsWith('ec2:')),
    );
    // Only the two Describe calls, which support no resource-level permissions, stay on "*".
    expect(ec2.filter((x) => x.Resource === '*').map((x) => x.Action)).toEqual([
      ['ec2:DescribeSnapshots', 'ec2:DescribeVolumes'],
    ]);
    const volumes = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ec2:*:', { Ref: 'AWS::AccountId' }, ':volume/*'],
      ],
    };
    expect(JSON.stringify(s.find((x) => x.Sid === 'SnapshotVolumes')?.Resource)).toBe(
      JSON.stringify(volumes),
    );
    const present = (key: string) => ({ Null: { [`${key}/velero.io/backup`]: 'false' } });
    expect(bySid('CreateVeleroSnapshots')).toMatchObject({
      Action: 'ec2:CreateSnapshot',
      Condition: present('aws:RequestTag'),
    });
    expect(bySid('DeleteVeleroSnapshots')).toMatchObject({
      Action: 'ec2:DeleteSnapshot',
      Condition: present('ec2:ResourceTag'),
    });
    expect(bySid('RestoreFromVeleroSnapshots').Condition).toEqual(present('ec2:ResourceTag'));
    expect(bySid('CreateRestoredVolumes').Condition).toEqual(present('aws:RequestTag'));
    expect(bySid('TagOnlyWhileCreating')).toMatchObject({
      Action: 'ec2:CreateTags',
      Condition: { StringEquals: { 'ec2:CreateAction': ['CreateSnapshot', 'CreateVolume'] } },
    });
    expect(JSON.stringify(bySid('CreateVeleroSnapshots').Resource)).toContain(':ec2:*::snapshot/*');
  });

  test('database-dump preset uploads and reads only the named secrets (seed 001, minus ListSecrets on *)', () => {
    const secret = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf';
    const s = statements({ preset: 'database-dump', secretArns: [secret] });
    expect(actions(s)).toEqual([
      's3:PutObject',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    expect(s.find((x) => x.Sid === 'ReadDatabaseCredentials')?.Resource).toEqual(secret);
  });

  test('restrictToPrefix scopes objects to the prefix and ListBucket with s3:prefix', () => {
    const s = statements({ preset: 'kubestash', restrictToPrefix: true });
    const list = s.find((x) => x.Sid === 'ListBackups');
    expect(list?.Condition).toEqual({
      StringLike: { 's3:prefix': ['ace/backups', 'ace/backups/*'] },
    });
    const objects = JSON.stringify(s.find((x) => x.Sid === 'ReadWriteBackups')?.Resource);
    expect(objects).toContain('/ace/backups/*');
    // GetBucketLocation carries no s3:prefix key, so a condition there would deny it.
    expect(s.find((x) => x.Sid === 'LocateBucket')?.Condition).toBeUndefined();
  });

  test('without restriction, objects are the whole bucket', () => {
    const s = statements({ preset: 'kubestash' });
    expect(s.find((x) => x.Sid === 'ListBackups')?.Condition).toBeUndefined();
    const objects = JSON.stringify(s.find((x) => x.Sid === 'ReadWriteBackups')?.Resource);
    expect(objects).toMatch(/"\/\*"\]/);
  });

  test('a KMS bucket adds decrypt and data-key on that key only', () => {
    const s = statements({ preset: 'kubestash' }, 'kms');
    const kms = s.find((x) => x.Sid === 'UseBucketKey');
    expect(kms?.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(JSON.stringify(kms?.Resource)).toMatch(/Fn::GetAtt.*BKey.*Arn/);
  });

  test('secrets go with the database-dump preset only', () => {
    expect(() => statements({ preset: 'database-dump' })).toThrow(/needs secretArns/);
    expect(() =>
      statements({
        preset: 'kubestash',
        secretArns: ['arn:aws:secretsmanager:us-east-1:111122223333:secret:x'],
      }),
    ).toThrow(/only apply to the database-dump preset/);
  });
});
