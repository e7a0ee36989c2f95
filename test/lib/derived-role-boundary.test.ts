import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DerivedRoleBoundary } from '../../lib/derived-role-boundary';
import { newApp } from '../support/example-app';

describe('DerivedRoleBoundary', () => {
  test('allows exactly the statements it is given, as its own copies', () => {
    const stack = new Stack(newApp(), 'T');
    const statement = new iam.PolicyStatement({
      sid: 'Read',
      actions: ['s3:GetObject'],
      resources: ['arn:aws:s3:::b/*'],
    });
    const access = new iam.ManagedPolicy(stack, 'Access', { statements: [statement] });
    new DerivedRoleBoundary(stack, 'B', {
      seedName: 'S',
      statements: [statement],
      preset: 'kubestash',
    });
    const docs = Object.values(
      Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy'),
    ).map((p) => p.Properties.PolicyDocument);
    expect(docs).toHaveLength(2);
    expect(docs[0]).toEqual(docs[1]);
    expect(access.document.statementCount).toBe(1);
  });

  test('an empty boundary is refused', () => {
    const stack = new Stack(newApp(), 'T');
    expect(
      () =>
        new DerivedRoleBoundary(stack, 'B', { seedName: 'S', statements: [], preset: 'kubestash' }),
    ).toThrow(/would deny everything/);
  });
});
