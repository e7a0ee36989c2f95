import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FunctionNetwork } from '../../lib/function-network';
import type { FunctionNetworkProps } from '../../lib/function-network';
import { newApp } from '../support/example-app';

const SUBNETS = [
  { id: 'subnet-0a1b2c3d4e5f60001', availabilityZone: 'eu-west-1a' },
  { id: 'subnet-0a1b2c3d4e5f60002', availabilityZone: 'eu-west-1b' },
];
const CLUSTER_SG = 'sg-0123456789abcdef0';

function build(overrides: Partial<FunctionNetworkProps> = {}) {
  const app = newApp();
  const stack = new Stack(app, 'Net', { env: { account: '111122223333', region: 'eu-west-1' } });
  const network = new FunctionNetwork(stack, 'Network', {
    vpcId: 'vpc-0123456789abcdef0',
    subnets: SUBNETS,
    clusters: [{ name: 'prod', securityGroupId: CLUSTER_SG }],
    ...overrides,
  });
  const role = new iam.Role(stack, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  network.grantNetworkInterfaces(role);
  const nag = new AwsSolutionsChecks(app).validateScope(stack);
  return { stack, network, template: Template.fromStack(stack), nag };
}

describe('FunctionNetwork', () => {
  test('the Lambdas’ security group allows outbound TCP 443 and nothing else', () => {
    const { template, network, stack } = build();
    const groups = template.findResources('AWS::EC2::SecurityGroup');
    const own =
      groups[stack.getLogicalId(network.securityGroup.node.defaultChild as ec2.CfnSecurityGroup)];
    expect(own.Properties.SecurityGroupEgress).toEqual([
      {
        CidrIp: '0.0.0.0/0',
        Description: 'HTTPS to EKS API servers and AWS APIs',
        FromPort: 443,
        IpProtocol: 'tcp',
        ToPort: 443,
      },
    ]);
    expect(own.Properties.SecurityGroupIngress).toBeUndefined();
    expect(own.Properties.VpcId).toBe('vpc-0123456789abcdef0');
  });

  test('the cluster security group admits the Lambdas on 443 (the stack’s ingress rule)', () => {
    const { template } = build();
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: CLUSTER_SG,
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkFunctions'), 'GroupId'],
      },
    });
  });

  test('manual ingress changes no cluster security group and offers the exact command', () => {
    const { template, network, stack } = build({ clusterIngress: 'manual' });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    expect(network.ingressCommands).toHaveLength(1);
    expect(stack.resolve(network.ingressCommands[0].command)).toEqual({
      'Fn::Join': [
        '',
        [
          `aws ec2 authorize-security-group-ingress --group-id ${CLUSTER_SG} --protocol tcp --port 443 --source-group `,
          { 'Fn::GetAtt': [expect.stringMatching(/^NetworkFunctions/), 'GroupId'] },
        ],
      ],
    });
  });

  test('interface endpoints: one per service, in the given subnets, admitting only the Lambdas', () => {
    const { template } = build({
      interfaceEndpoints: [
        ec2.InterfaceVpcEndpointAwsService.EKS,
        ec2.InterfaceVpcEndpointAwsService.STS,
      ],
    });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    for (const name of ['com.amazonaws.eu-west-1.eks', 'com.amazonaws.eu-west-1.sts']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: name,
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        SubnetIds: SUBNETS.map((s) => s.id),
      });
    }
    // The endpoints' group admits 443 from the Lambdas' group only, never the VPC CIDR.
    const endpointGroups = Object.entries(template.findResources('AWS::EC2::SecurityGroup')).filter(
      ([, g]) => String(g.Properties.GroupDescription).includes('interface endpoints'),
    );
    expect(endpointGroups).toHaveLength(1);
    const [endpointGroupId, endpointGroup] = endpointGroups[0];
    expect(endpointGroup.Properties.SecurityGroupIngress).toBeUndefined();
    const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => JSON.stringify(r.Properties.GroupId).includes(endpointGroupId),
    );
    expect(rules.map((r) => r.Properties)).toEqual([
      expect.objectContaining({
        FromPort: 443,
        ToPort: 443,
        IpProtocol: 'tcp',
        SourceSecurityGroupId: {
          'Fn::GetAtt': [expect.stringMatching(/^NetworkFunctions/), 'GroupId'],
        },
      }),
    ]);
  });

  test('no endpoints unless asked for', () => {
    build().template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('the execution role may manage the function’s network interfaces, scoped where EC2 allows', () => {
    const { template } = build();
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policies.flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Sid: string; Resource: unknown }[],
    );
    const bySid = new Map(statements.map((s) => [s.Sid, s]));
    expect(JSON.stringify(bySid.get('CreateFunctionInterfaces')?.Resource)).toContain(
      `subnet/${SUBNETS[0].id}`,
    );
    expect(bySid.get('DescribeFunctionInterfaces')?.Resource).toBe('*');
    // No statement grants logs:* or any action beyond the six Lambda documents.
    const actions = statements.flatMap(
      (s) => (s as unknown as { Action: string | string[] }).Action,
    );
    expect(new Set(actions.flat())).toEqual(
      new Set([
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
      ]),
    );
  });

  test('cdk-nag passes with each wildcard acknowledged by its exact key', () => {
    expect(
      build({ interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.EKS] }).nag.violations,
    ).toEqual([]);
  });

  test('refuses to place functions without subnets', () => {
    expect(() => build({ subnets: [] })).toThrow(/at least one private subnet/);
  });
});
