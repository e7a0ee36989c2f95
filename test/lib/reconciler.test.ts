import { Match } from 'aws-cdk-lib/assertions';
import { synthExampleStack } from '../support/example-app';

describe('Reconciler', () => {
  const { template, config } = synthExampleStack();
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { RECONCILER_SEEDS: Match.anyValue() } } },
  });
  const [reconcile] = Object.values(functions);

  test('runs as the least-privilege reconciler role, on Node.js 24, with the seeds and clusters in its environment', () => {
    expect(reconcile.Properties.Runtime).toBe('nodejs24.x');
    expect(JSON.stringify(reconcile.Properties.Role)).toContain('ReconcilerRole');
    const seeds = JSON.stringify(reconcile.Properties.Environment.Variables.RECONCILER_SEEDS);
    expect(seeds).toContain('KubestashRole');
    expect(seeds).toContain(config.clusters[0].name);
    expect(seeds).toContain('oidc.eks.us-east-1.amazonaws.com/id/9F3A7C1B5D8E42A6C91E0F2B4A7D6C8E');
    expect(reconcile.Properties.Environment.Variables.EMPTY_ROLE_GRACE_SECONDS).toBe('3600');
  });

  test('consumes the FIFO queue in batches of ten and reports partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  test('an EKS access entry maps its role to the Kubernetes group the cdk8s RBAC binds', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'prod-cluster',
      KubernetesGroups: ['kubestash-irsa:reconciler'],
      Type: 'STANDARD',
      PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReconcilerRole'), 'Arn'] },
    });
  });

  test('alarms on dead letters, errors, and 80% of the derived-role limit', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DerivedRoleUtilization',
      Namespace: 'KubestashIrsa',
      Threshold: 80,
      Dimensions: Match.arrayWith([{ Name: 'Seed', Value: 'KubestashRole' }]),
    });
  });

  test('alarms when IAM refuses a derived role for the account roles quota', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RoleQuotaExceeded',
      Namespace: 'KubestashIrsa',
      Threshold: 1,
      Dimensions: Match.arrayWith([{ Name: 'Seed', Value: 'KubestashRole' }]),
      AlarmDescription: Match.stringLikeRegexp('L-FE177D64'),
    });
  });

  test('is deleted before the derived-role cleanup runs', () => {
    const [id] = Object.keys(functions);
    const cleanup = Object.keys(template.findResources('Custom::DerivedRoleCleanup'))[0];
    expect(template.toJSON().Resources[id].DependsOn).toContain(cleanup);
  });

  test('follows audit logs only of clusters that say so', () => {
    template.resourceCountIs('AWS::Logs::SubscriptionFilter', 0);
    const withLogs = synthExampleStack((c) => {
      (c.clusters[0] as { auditLogs?: boolean }).auditLogs = true;
    });
    withLogs.template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: '/aws/eks/prod-cluster/cluster',
    });
    expect(withLogs.nag.violations).toEqual([]);
  });

  test('releases gated Jobs: stuck time and proof settings come from jobGate', () => {
    expect(reconcile.Properties.Environment.Variables).toMatchObject({
      GATE_STUCK_AFTER_SECONDS: '1800',
      GATE_PROOF_ATTEMPTS: '10',
      GATE_PROOF_DELAY_MS: '3000',
    });
    const { template: off } = synthExampleStack((c) => (c.jobGate = { proveAccess: false }));
    const [fn] = Object.values(
      off.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { RECONCILER_SEEDS: Match.anyValue() } } },
      }),
    );
    expect(fn.Properties.Environment.Variables.GATE_PROOF_ATTEMPTS).toBe('0');
    const { template: none } = synthExampleStack((c) => (c.jobGate = { enabled: false }));
    const [bare] = Object.values(
      none.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { RECONCILER_SEEDS: Match.anyValue() } } },
      }),
    );
    expect(bare.Properties.Environment.Variables.GATE_STUCK_AFTER_SECONDS).toBeUndefined();
  });
});
