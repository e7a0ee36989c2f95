import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AuditLogForwarder } from '../../lib/audit-log-forwarder';
import { newApp } from '../support/example-app';

function build(clusterNames = ['prod-cluster', 'dr-cluster']) {
  const app = newApp();
  const stack = new Stack(app, 'T', { env: { account: '111122223333', region: 'us-east-1' } });
  const eventBus = new events.EventBus(stack, 'Bus');
  new AuditLogForwarder(stack, 'Audit', {
    eventBus,
    clusterNames,
    seedNames: ['KubestashRole', 'VeleroRole'],
  });
  return {
    template: Template.fromStack(stack),
    nag: new AwsSolutionsChecks(app).validateScope(stack),
  };
}

describe('AuditLogForwarder', () => {
  test('subscribes to each cluster’s audit log group with a filter on ServiceAccount create/delete', () => {
    const { template } = build();
    for (const cluster of ['prod-cluster', 'dr-cluster']) {
      template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
        LogGroupName: `/aws/eks/${cluster}/cluster`,
        FilterPattern: Match.stringLikeRegexp('\\$\\.objectRef\\.resource = "serviceaccounts"'),
      });
    }
    const pattern = Object.values(template.findResources('AWS::Logs::SubscriptionFilter'))[0]
      .Properties.FilterPattern;
    expect(pattern).toContain('$.verb = "create"');
    expect(pattern).toContain('$.verb = "delete"');
    expect(pattern).toContain('$.stage = "ResponseComplete"');
  });

  test('runs on Node.js 24 with the bus and seeds in its environment, and may only put events on that bus', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          SEEDS: 'KubestashRole,VeleroRole',
          EVENT_BUS_NAME: Match.anyValue(),
        }),
      },
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    const actions = statements.flatMap((s: { Action: string | string[] }) =>
      Array.isArray(s.Action) ? s.Action : [s.Action],
    );
    expect(actions.sort()).toEqual([
      'events:PutEvents',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
  });

  test('uses no AWS managed policy and passes cdk-nag', () => {
    const { template, nag } = build();
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
    expect(nag.violations).toEqual([]);
  });

  test('needs at least one cluster', () => {
    expect(() => build([])).toThrow(/at least one cluster/);
  });
});
