import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { JobGate } from '../../lib/job-gate';
import type { JobGateProps } from '../../lib/job-gate';
import { newApp, synthExampleStack } from '../support/example-app';

describe('JobGate in the example stack', () => {
  const { template, nag } = synthExampleStack();
  const gates = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { ACCESS_CHECK_IMAGE: Match.anyValue() } } },
  });
  const [[gateId, gate]] = Object.entries(gates);

  test('a public Function URL (the API server cannot sign), with reserved concurrency bounding its cost', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [gateId, 'Arn'] },
    });
    expect(gate.Properties.ReservedConcurrentExecutions).toBe(10);
    expect(gate.Properties.Timeout).toBe(5);
  });

  test('its environment carries the prefix-aware check target, the allowed namespaces and the seeds per cluster', () => {
    const env = gate.Properties.Environment.Variables as Record<string, unknown>;
    expect(JSON.stringify(env.BUCKETS)).toContain(
      'ace/production/backups/.kubestash-irsa-access-check/',
    );
    expect(JSON.stringify(env.ALLOWED_NAMESPACES)).toContain('AllowedNamespaces');
    expect(env.CLUSTER_SEEDS).toBe('prod-cluster=KubestashRole');
    expect(env).toMatchObject({
      ACCESS_CHECK_IMAGE: 'amazon/aws-cli:2.27.50',
      ACCESS_CHECK_ATTEMPTS: '12',
      ACCESS_CHECK_DELAY_SECONDS: '5',
      GATE_OBSERVE_ONLY: 'false',
    });
  });

  test('may only put events on the project bus, describe its clusters and read its token secrets (plus its own logs)', () => {
    const role = gate.Properties.Role['Fn::GetAtt'][0] as string;
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: role }] },
    });
    const actions = Object.values(policies).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
      ),
    );
    expect(actions.sort()).toEqual([
      'eks:DescribeCluster',
      'events:PutEvents',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
  });

  test('an EKS access entry per cluster maps its role to the gate group (RBAC: get serviceaccounts)', () => {
    const role = gate.Properties.Role['Fn::GetAtt'][0] as string;
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'prod-cluster',
      PrincipalArn: { 'Fn::GetAtt': [role, 'Arn'] },
      KubernetesGroups: ['kubestash-irsa:job-gate'],
      Type: 'STANDARD',
    });
  });

  test('one generated token secret per cluster, named to the gate by cluster, its ARN an output', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret');
    const [[secretId, secret]] = Object.entries(secrets);
    expect(Object.keys(secrets)).toHaveLength(1);
    expect(secret.Properties.GenerateSecretString).toEqual({
      ExcludePunctuation: true,
      IncludeSpace: false,
      PasswordLength: 48,
    });
    const env = gate.Properties.Environment.Variables as Record<string, unknown>;
    expect(env.CLUSTER_TOKEN_SECRETS).toEqual({
      'Fn::Join': ['', ['prod-cluster=', { Ref: secretId }]],
    });
    template.hasOutput('JobGateTokenSecretprodcluster', { Value: { Ref: secretId } });
  });

  test('the URL is an exported output the cdk8s app reads', () => {
    template.hasOutput('JobGateUrl', {
      Value: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^JobGateFunctionFunctionUrl'), 'FunctionUrl'],
      },
      Export: { Name: 'KubestashIrsa-JobGateUrl' },
    });
  });

  test('cdk-nag finds nothing unacknowledged', () => {
    expect(nag.violations).toEqual([]);
  });

  test('jobGate.enabled false leaves the gate out', () => {
    const off = synthExampleStack(
      (c) => ((c.jobGate as Record<string, unknown>) = { enabled: false }),
    );
    off.template.resourceCountIs('AWS::Lambda::Url', 0);
    expect(Object.keys(off.template.toJSON().Outputs)).not.toContain('JobGateUrl');
  });
});

describe('JobGate observe-only', () => {
  test('jobGate.observeOnly in the config reaches the function as GATE_OBSERVE_ONLY', () => {
    const { template } = synthExampleStack((c) => {
      c.jobGate = { ...c.jobGate, observeOnly: true };
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GATE_OBSERVE_ONLY: 'true' }) },
    });
  });
});

describe('JobGate validation', () => {
  function make(overrides: Partial<JobGateProps>) {
    const stack = new Stack(newApp(), 'Test');
    return new JobGate(stack, 'Gate', {
      eventBus: new events.EventBus(stack, 'Bus'),
      allowedNamespaces: 'demo',
      buckets: [{ bucket: 'b', prefix: 'p/.kubestash-irsa-access-check/' }],
      clusterSeeds: { c: ['Seed'] },
      ...overrides,
    });
  }

  test.each<[string, Partial<JobGateProps>, RegExp]>([
    ['no bucket', { buckets: [] }, /give the bucket/],
    ['a cluster without seeds', { clusterSeeds: { c: [] } }, /at least one seed/],
    ['zero attempts', { accessCheckAttempts: 0 }, /accessCheckAttempts 0/],
    ['a sub-second delay', { accessCheckDelay: Duration.millis(500) }, /accessCheckDelay 0.5s/],
  ])('%s is refused with a message naming the property', (_, overrides, message) => {
    expect(() => make(overrides)).toThrow(message);
  });

  test('valid props synthesize', () => {
    const gate = make({});
    Template.fromStack(Stack.of(gate)).resourceCountIs('AWS::Lambda::Url', 1);
  });
});
