import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { BackupBucket } from '../../lib/backup-bucket';
import { ClusterOidcProvider } from '../../lib/cluster-oidc-provider';
import { DatabaseDumpRole } from '../../lib/database-dump-role';
import { newApp, synthExampleStack } from '../support/example-app';

type Statement = { Sid: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

function dumpPolicy(template: ReturnType<typeof synthExampleStack>['template']): Statement[] {
  const [policy] = Object.values(
    template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^DumpappdbRole') }] },
    }),
  );
  return policy.Properties.PolicyDocument.Statement as Statement[];
}

describe('DatabaseDumpRole in the example stack', () => {
  const { template, nag } = synthExampleStack();

  test('has the fixed name the manifests annotate, and trusts exactly one ServiceAccount (StringEquals)', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'KubestashIrsa-dump-app-db',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRoleWithWebIdentity',
            Effect: 'Allow',
            Condition: {
              StringEquals: {
                'oidc.eks.us-east-1.amazonaws.com/id/9F3A7C1B5D8E42A6C91E0F2B4A7D6C8E:sub':
                  'system:serviceaccount:database-backup:app-db-dump',
                'oidc.eks.us-east-1.amazonaws.com/id/9F3A7C1B5D8E42A6C91E0F2B4A7D6C8E:aud':
                  'sts.amazonaws.com',
              },
            },
          },
        ],
      },
    });
  });

  test('may put objects under its own folder and read its one secret, nothing more (no ListSecrets, no ACLs)', () => {
    const statements = dumpPolicy(template);
    expect(statements.map((s) => [s.Sid, s.Action])).toEqual([
      ['UploadDumps', 's3:PutObject'],
      [
        'ReadDatabaseCredentials',
        ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      ],
    ]);
    expect(JSON.stringify(statements[0].Resource)).toContain(
      '/ace/production/backups/database-dumps/app-db/*',
    );
    expect(statements[1].Resource).toBe(
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/app-db-AbCdEf',
    );
  });

  test('cdk-nag: only the acknowledged upload wildcard', () => {
    expect(nag.violations).toEqual([]);
  });

  test('a KMS bucket and a customer-managed secret key add exactly the KMS calls they need', () => {
    const kms = synthExampleStack((c) => {
      c.bucket.encryption = 'kms';
      c.databaseDumps = [
        {
          name: 'app-db',
          cluster: 'prod-cluster',
          secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/app-db-AbCdEf',
          secretKmsKeyArn:
            'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          database: 'app',
        },
      ];
    });
    const statements = dumpPolicy(kms.template);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(bySid.DecryptSecret).toMatchObject({
      Action: 'kms:Decrypt',
      Resource: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
    });
    // Multipart uploads (aws s3 cp above 8 MB) under SSE-KMS need Decrypt too.
    expect(bySid.EncryptUploads.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kms.nag.violations).toEqual([]);
  });
});

test('a sub-prefix with slashes at its ends is refused with the fix', () => {
  const stack = new Stack(newApp(), 'Test');
  const bucket = new BackupBucket(stack, 'Bucket', { bucketName: 'b-111122223333' });
  const provider = new ClusterOidcProvider(stack, 'Oidc', {
    clusterName: 'c',
    issuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC',
  });
  expect(
    () =>
      new DatabaseDumpRole(stack, 'Dump', {
        roleName: 'dump',
        provider,
        namespace: 'db',
        serviceAccount: 'dump',
        backupBucket: bucket,
        subPrefix: '/dumps/',
        secretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf',
      }),
  ).toThrow('must be a folder without slashes at either end, e.g. database-dumps/app');
});
