import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../../lib/config';
import { KubestashIrsaStack } from '../../lib/kubestash-irsa-stack';
import { CfnResolver } from '../support/cfn-resolver';
import type { CfnResource, CfnTemplate } from '../support/cfn-resolver';
import { addSeeds, PROJECT_DIR, newApp, synthExampleStack } from '../support/example-app';

const variants: [string, Parameters<typeof synthExampleStack>[0]][] = [
  ['the example config', undefined],
  [
    'two clusters, KMS, prefix scoping, velero and database-dump seeds, an existing boundary',
    (c) => {
      c.clusters.push({
        name: 'dr-cluster',
        oidcProviderArn:
          'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/DR',
      });
      c.bucket.encryption = 'kms';
      c.bucket.restrictToPrefix = true;
      addSeeds(
        c,
        { name: 'VeleroRole', accessPolicy: 'velero', derivedRolePath: '/velero-irsa/' },
        {
          name: 'DumpRole',
          accessPolicy: 'database-dump',
          secretArns: ['arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf'],
          clusters: ['prod-cluster'],
        },
      );
    },
  ],
  [
    'a pod-identity seed on a second cluster, with the agent add-on',
    (c) => {
      c.clusters.push({
        name: 'auto-cluster',
        oidcIssuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/AUTO',
        podIdentity: { installAgent: true },
      });
      c.seeds[0].clusters = ['prod-cluster'];
      c.seeds[0].namespaces = ['demo'];
      c.seeds.push({
        name: 'PodIdentityRole',
        mode: 'pod-identity',
        clusters: ['auto-cluster'],
        namespaces: ['demo'],
      });
    },
  ],
  [
    'an existing bucket with its KMS key, no access logs',
    (c) => {
      c.bucket.existing = true;
      c.bucket.encryption = 'kms';
      c.bucket.kmsKeyArn =
        'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      c.permissionsBoundaryArn = 'arn:aws:iam::111122223333:policy/OrgBoundary';
    },
  ],
];

describe('KubestashIrsaStack', () => {
  test.each(variants)(
    'cdk-nag AwsSolutions has no unacknowledged finding for %s',
    (_name, modify) => {
      const { nag } = synthExampleStack(modify);
      expect(nag.violations).toEqual([]);
      expect(nag.success).toBe(true);
    },
  );

  test('cdk-nag does report a wildcard nobody acknowledged (the check can fail)', () => {
    const app = newApp();
    const stack = new Stack(app, 'Probe');
    new iam.ManagedPolicy(stack, 'Loose', {
      statements: [
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] }),
      ],
    });
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toContain(
      'AwsSolutions-IAM5[Resource::arn:aws:s3:::b/*]',
    );
  });

  test('every acknowledgment names one finding key and gives a reason', () => {
    const { stack } = synthExampleStack(variants[1][1]);
    const acks = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) {
      expect(id).toMatch(/^Annotation::AwsSolutions-(S1|SMG4|IAM5\[Resource::.+\])$/);
      expect(reason.length).toBeGreaterThan(30);
    }
  });

  test('the role-creation limit parameter stops where the last derived name would pass 64 characters (issue 11)', () => {
    // `<61 characters>-99` is IAM's 64-character maximum; the console must not accept 101.
    const seed = 'R'.repeat(61);
    const { template } = synthExampleStack((c) => {
      c.seeds[0].name = seed;
      c.seeds[0].roleCreationLimit = 50;
    });
    expect(template.toJSON().Parameters[`${seed}RoleCreationLimit`]).toMatchObject({
      Default: 50,
      MaxValue: 100,
    });
  });

  test('an issuer URL with a trailing "/" gives condition keys without it (issue 11)', () => {
    const { template } = synthExampleStack((c) => {
      c.clusters[0].oidcIssuerUrl = 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC/';
    });
    const text = JSON.stringify(template.toJSON());
    expect(text).toContain('"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"');
    expect(text).not.toContain('/:sub');
    expect(text).not.toContain('/id/ABC/');
  });

  test('console users get labelled, grouped parameters with defaults from the config', () => {
    const { template } = synthExampleStack();
    const t = template.toJSON();
    expect(t.Parameters.AllowedNamespaces).toBeUndefined();
    expect(t.Parameters.KubestashRoleAllowedNamespaces).toMatchObject({
      Type: 'CommaDelimitedList',
      Default: 'demo',
    });
    expect(t.Parameters.KubestashRoleRoleCreationLimit).toMatchObject({
      Type: 'Number',
      Default: 100,
      MinValue: 1,
      MaxValue: 1000,
    });
    expect(t.Parameters.KubestashRoleOperatorNamespace).toMatchObject({
      Default: 'kubestash',
      MaxLength: 63,
    });
    expect(t.Parameters.KubestashRoleOperatorServiceAccount).toMatchObject({
      Default: 'kubestash-kubestash-operator',
    });
    const ui = t.Metadata['AWS::CloudFormation::Interface'];
    expect(ui.ParameterGroups).toEqual([
      {
        Label: { default: 'Seed role KubestashRole' },
        Parameters: [
          'KubestashRoleAllowedNamespaces',
          'KubestashRoleOperatorNamespace',
          'KubestashRoleOperatorServiceAccount',
          'KubestashRoleRoleCreationLimit',
        ],
      },
    ]);
    expect(ui.ParameterLabels.KubestashRoleRoleCreationLimit).toEqual({
      default: 'Derived-role limit',
    });
  });

  test('the parameters reach the seed trust policy and tags', () => {
    const { template } = synthExampleStack();
    const role = Object.values(
      template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'KubestashRole' } }),
    )[0];
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain(
      '"Ref":"KubestashRoleOperatorNamespace"',
    );
    const tags = Object.fromEntries(
      role.Properties.Tags.map((t: { Key: string; Value: unknown }) => [t.Key, t.Value]),
    );
    expect(tags['kubestash-irsa.io/role-creation-limit']).toEqual({
      Ref: 'KubestashRoleRoleCreationLimit',
    });
    expect(tags['kubestash-irsa.io/allowed-namespaces']).toEqual({
      'Fn::Join': [' ', { Ref: 'KubestashRoleAllowedNamespaces' }],
    });
  });

  test('a team per namespace: each seed gets its own namespaces parameter feeding its tag; the reconciler watches them all; the gate knows which seed serves which namespace', () => {
    const { template, config } = synthExampleStack((c) => {
      c.allowedNamespaces = ['demo', 'billing', 'velero'];
      c.seeds[0].namespaces = ['demo', 'billing'];
      addSeeds(c, {
        name: 'VeleroRole',
        accessPolicy: 'velero',
        derivedRolePath: '/velero-irsa/',
        namespaces: ['velero'],
      });
    });
    const t = template.toJSON() as CfnTemplate;
    const resolver = new CfnResolver(t, {
      account: config.account,
      region: config.region,
      stackName: config.stackName,
    });
    expect(t.Parameters?.KubestashRoleAllowedNamespaces).toMatchObject({
      Type: 'CommaDelimitedList',
      Default: 'demo,billing',
    });
    expect(t.Parameters?.VeleroRoleAllowedNamespaces).toMatchObject({ Default: 'velero' });
    const tagOf = (seed: string) => {
      const role = Object.values(
        template.findResources('AWS::IAM::Role', { Properties: { RoleName: seed } }),
      )[0];
      const tag = (role.Properties.Tags as { Key: string; Value: unknown }[]).find(
        (x) => x.Key === 'kubestash-irsa.io/allowed-namespaces',
      );
      return { raw: tag?.Value, resolved: resolver.resolveString(tag?.Value) };
    };
    expect(tagOf('KubestashRole')).toEqual({
      raw: { 'Fn::Join': [' ', { Ref: 'KubestashRoleAllowedNamespaces' }] },
      resolved: 'demo billing',
    });
    expect(tagOf('VeleroRole').resolved).toBe('velero');
    const envOf = (variable: string) => {
      const fn = Object.values(t.Resources).find(
        (r: CfnResource) =>
          r.Type === 'AWS::Lambda::Function' &&
          (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
            ?.Variables?.[variable] !== undefined,
      );
      const vars = (fn?.Properties?.Environment as { Variables: Record<string, unknown> })
        .Variables;
      return resolver.resolveString(vars[variable]);
    };
    expect(envOf('WATCHED_NAMESPACES')).toBe('demo billing velero');
    expect(envOf('SEED_NAMESPACES')).toBe('KubestashRole=demo billing;VeleroRole=velero');
    expect(envOf('ALLOWED_NAMESPACES')).toBe('demo billing velero');
  });

  test('outputs what the manifests and operators need, each exported', () => {
    const outputs = synthExampleStack().template.toJSON().Outputs as Record<
      string,
      { Export: { Name: string } }
    >;
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AccessPolicyArnKubestashRole',
        'BucketName',
        'DashboardName',
        'DerivedRolePathKubestashRole',
        'DumpRoleArnappdb',
        'EventBusName',
        'JobGateTokenSecretprodcluster',
        'JobGateUrl',
        'OidcProviderArnprodcluster',
        'PermissionsBoundaryArnKubestashRole',
        'ReconcilerRoleArn',
        'SeedRoleArnKubestashRole',
      ].sort(),
    );
    for (const [key, output] of Object.entries(outputs))
      expect(output.Export.Name).toBe(`KubestashIrsa-${key}`);
  });

  test('the example stack holds the expected resources', () => {
    const t = synthExampleStack().template.toJSON();
    const types = Object.values(t.Resources as Record<string, { Type: string }>)
      .map((r) => r.Type)
      .sort();
    expect(types).toEqual(
      [
        'AWS::CloudWatch::Alarm',
        'AWS::CloudWatch::Alarm',
        'AWS::CloudWatch::Alarm',
        'AWS::CloudWatch::Alarm',
        'AWS::CloudWatch::Alarm',
        'AWS::CloudWatch::Dashboard',
        'AWS::EKS::AccessEntry',
        'AWS::EKS::AccessEntry',
        'AWS::Events::EventBus',
        // One seed: a route per kind (three) and a scheduled resync.
        'AWS::Events::Rule',
        'AWS::Events::Rule',
        'AWS::Events::Rule',
        'AWS::Events::Rule',
        'AWS::Lambda::EventSourceMapping',
        'AWS::Lambda::Function',
        'AWS::Logs::LogGroup',
        'AWS::SQS::Queue',
        'AWS::SQS::Queue',
        'AWS::SQS::QueuePolicy',
        'AWS::SQS::QueuePolicy',
        // The job gate's webhook token of the one cluster.
        'AWS::SecretsManager::Secret',
        'AWS::IAM::ManagedPolicy',
        'AWS::IAM::ManagedPolicy',
        'AWS::IAM::OIDCProvider',
        'AWS::IAM::Policy',
        'AWS::IAM::Policy',
        // The database dump's role and its inline policy.
        'AWS::IAM::Policy',
        'AWS::IAM::Role',
        'AWS::IAM::Role',
        'AWS::IAM::Role',
        'AWS::IAM::Role',
        'AWS::Lambda::Function',
        'AWS::Logs::LogGroup',
        'Custom::DerivedRoleCleanup',
        'AWS::S3::Bucket',
        'AWS::S3::Bucket',
        'AWS::S3::BucketPolicy',
        'AWS::S3::BucketPolicy',
        // The job gate: its function, role, policy, log group, URL and the URL's two invoke permissions.
        'AWS::Lambda::Function',
        'AWS::IAM::Role',
        'AWS::IAM::Policy',
        'AWS::Logs::LogGroup',
        'AWS::Lambda::Url',
        'AWS::Lambda::Permission',
        'AWS::Lambda::Permission',
      ].sort(),
    );
  });

  test('a seed restricted to one cluster trusts only that cluster', () => {
    const { template } = synthExampleStack(variants[1][1]);
    const dump = Object.values(
      template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'DumpRole' } }),
    )[0];
    expect(dump.Properties.AssumeRolePolicyDocument.Statement).toHaveLength(1);
    const velero = Object.values(
      template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'VeleroRole' } }),
    )[0];
    expect(velero.Properties.AssumeRolePolicyDocument.Statement).toHaveLength(2);
  });
});

describe('pod-identity mode', () => {
  const podIdentity = variants.find(([name]) => name.startsWith('a pod-identity seed'));
  const { template } = synthExampleStack(podIdentity?.[1]);

  test('installs the agent add-on only where asked, and gives the operator its association', () => {
    template.resourceCountIs('AWS::EKS::Addon', 1);
    template.hasResourceProperties('AWS::EKS::Addon', {
      ClusterName: 'auto-cluster',
      AddonName: 'eks-pod-identity-agent',
    });
    template.resourceCountIs('AWS::EKS::PodIdentityAssociation', 1);
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      ClusterName: 'auto-cluster',
      Namespace: { Ref: 'PodIdentityRoleOperatorNamespace' },
      ServiceAccount: { Ref: 'PodIdentityRoleOperatorServiceAccount' },
    });
  });

  test('tells the reconciler the seed mode, settle time and quota', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((r) =>
      JSON.stringify(r).includes('RECONCILER_SEEDS'),
    );
    const text = JSON.stringify(fn?.Properties.Environment.Variables.RECONCILER_SEEDS);
    expect(text).toContain('\\"mode\\":\\"pod-identity\\"');
    expect(text).toContain('\\"associationQuotas\\":{\\"auto-cluster\\":5000}');
    expect(text).toContain('\\"settleSeconds\\":10');
  });
});

describe('shipped example configs', () => {
  const dir = path.join(PROJECT_DIR, 'examples', 'config');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

  test.each(files)('%s is valid and passes cdk-nag', (file) => {
    const config = loadConfig({ configFile: path.join(dir, file) });
    const app = newApp();
    const stack = new KubestashIrsaStack(app, config.stackName, {
      config,
      env: { account: config.account, region: config.region },
    });
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations).toEqual([]);
  });
});

describe('KubestashIrsaStack endpoint modes (docs/private-clusters.md)', () => {
  const network = {
    vpcId: 'vpc-0123456789abcdef0',
    subnets: [
      { id: 'subnet-0a1b2c3d4e5f60001', availabilityZone: 'us-east-1a' },
      { id: 'subnet-0a1b2c3d4e5f60002', availabilityZone: 'us-east-1b' },
    ],
  };
  const clusterSg = 'sg-0123456789abcdef0';

  /** VpcConfig per function, keyed by what the function is. */
  function placements(template: ReturnType<typeof synthExampleStack>['template']) {
    return Object.values(template.findResources('AWS::Lambda::Function')).map((f) => ({
      description: String(f.Properties.Description ?? 'custom resource'),
      vpcConfig: f.Properties.VpcConfig as { SubnetIds: string[] } | undefined,
    }));
  }
  const inVpc = (d: string) => /reconciler:|job gate:/.test(d);

  test('public: no function in a VPC, no security group, no endpoint', () => {
    const { template } = synthExampleStack();
    expect(placements(template).filter((p) => p.vpcConfig !== undefined)).toEqual([]);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('private: reconciler and gate run in the subnets, the cluster group admits them, cdk-nag is clean', () => {
    const { template, nag } = synthExampleStack((c) => {
      c.clusters[0].endpointAccess = 'private';
      c.clusters[0].securityGroupId = clusterSg;
      c.network = network;
    });
    const all = placements(template);
    expect(all.filter((p) => inVpc(p.description))).toHaveLength(2);
    for (const p of all) {
      if (inVpc(p.description)) {
        expect(p.vpcConfig?.SubnetIds).toEqual(network.subnets.map((s) => s.id));
      } else {
        // The cleanup and audit-log Lambdas talk only to AWS APIs: they stay outside.
        expect(p.vpcConfig).toBeUndefined();
      }
    }
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: clusterSg,
      FromPort: 443,
      ToPort: 443,
    });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(nag.violations).toEqual([]);
  });

  test('public-allowlist: in the VPC behind its NAT; no cluster group given, none changed', () => {
    const { template, nag } = synthExampleStack((c) => {
      c.clusters[0].endpointAccess = 'public-allowlist';
      c.network = network;
    });
    expect(placements(template).filter((p) => p.vpcConfig !== undefined)).toHaveLength(2);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(nag.violations).toEqual([]);
  });

  test('private with interface endpoints: one for each API the functions call, IAM included in us-east-1', () => {
    const { template, nag } = synthExampleStack((c) => {
      c.clusters[0].endpointAccess = 'private';
      c.clusters[0].securityGroupId = clusterSg;
      c.network = { ...network, natRoute: false, interfaceEndpoints: true };
    });
    const names = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map(
      (e) => e.Properties.ServiceName as string,
    );
    expect(names.sort()).toEqual([
      'com.amazonaws.iam',
      'com.amazonaws.us-east-1.eks',
      'com.amazonaws.us-east-1.events',
      'com.amazonaws.us-east-1.secretsmanager',
      'com.amazonaws.us-east-1.sts',
    ]);
    expect(nag.violations).toEqual([]);
  });

  test('manual ingress: no rule on the cluster group, an output with the command instead', () => {
    const { template } = synthExampleStack((c) => {
      c.clusters[0].endpointAccess = 'private';
      c.clusters[0].securityGroupId = clusterSg;
      c.network = { ...network, clusterIngress: 'manual' };
    });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    const outputs = template.findOutputs('ClusterIngressCommandprodcluster');
    expect(JSON.stringify(outputs)).toContain(
      `aws ec2 authorize-security-group-ingress --group-id ${clusterSg} --protocol tcp --port 443 --source-group `,
    );
  });
});
