import { Annotations, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { alphanumeric } from './config/project-config';
import { acknowledgeWildcardResources } from './nag-acknowledgments';

export interface FunctionNetworkSubnet {
  readonly id: string;
  readonly availabilityZone: string;
}

/** A cluster whose security group must admit the Lambdas on 443. */
export interface AdmittingCluster {
  readonly name: string;
  readonly securityGroupId: string;
}

export interface FunctionNetworkProps {
  /** The VPC the Lambdas run in (`vpc-…`). */
  readonly vpcId: string;
  /** Private subnets of that VPC, with their Availability Zones (no lookup at synth time). */
  readonly subnets: readonly FunctionNetworkSubnet[];
  /** Cluster security groups that admit the Lambdas' security group on TCP 443. */
  readonly clusters: readonly AdmittingCluster[];
  /**
   * `stack` adds an ingress rule to each cluster security group; `manual`
   * leaves them alone and offers the exact command in {@link ingressCommands}
   * (for clusters this stack may not change).
   * @default 'stack'
   */
  readonly clusterIngress?: 'stack' | 'manual';
  /**
   * Interface endpoints to create for the AWS APIs the Lambdas call, e.g.
   * `InterfaceVpcEndpointAwsService.EKS`; each admits only the Lambdas.
   * @default none (the subnets reach the APIs through a NAT route or existing endpoints)
   */
  readonly interfaceEndpoints?: readonly ec2.InterfaceVpcEndpointAwsService[];
}

/** The Lambda props that put a function in the network. */
export type FunctionPlacement = Required<
  Pick<lambda.FunctionOptions, 'vpc' | 'vpcSubnets' | 'securityGroups'>
>;

/**
 * Where the stack's Lambdas run when a cluster's API server is private or
 * allowlisted: the given private subnets, with one security group of their
 * own that allows outbound TCP 443 only (the API servers, the AWS APIs, and
 * interface endpoints all listen there; DNS to the VPC resolver is not
 * filtered by security groups). One per stack, shared by the reconciler and
 * the job gate; the VPC and subnets are imported by id, so synthesis makes no
 * lookup.
 *
 * Sources: Lambda VPC access and its execution-role permissions,
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html; the
 * cluster security group, https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html.
 */
export class FunctionNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: readonly ec2.ISubnet[];
  /** The Lambdas' own security group: egress TCP 443 only, no ingress. */
  readonly securityGroup: ec2.SecurityGroup;
  readonly endpoints: readonly ec2.InterfaceVpcEndpoint[];
  /**
   * With `clusterIngress: 'manual'`, one `aws ec2 authorize-security-group-ingress`
   * command per cluster (tokens: the Lambdas' group id resolves at deploy time).
   */
  readonly ingressCommands: readonly { readonly cluster: string; readonly command: string }[];

  constructor(scope: Construct, id: string, props: FunctionNetworkProps) {
    super(scope, id);
    if (props.subnets.length === 0) {
      throw new Error('FunctionNetwork: give at least one private subnet for the Lambdas');
    }
    const zones = [...new Set(props.subnets.map((s) => s.availabilityZone))];
    // The imported VPC's zones matter only for selection by subnet type, which is never used here.
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.vpcId,
      availabilityZones: zones,
    });
    this.subnets = props.subnets.map((s) => {
      const subnet = ec2.Subnet.fromSubnetAttributes(this, `Subnet${alphanumeric(s.id)}`, {
        subnetId: s.id,
        availabilityZone: s.availabilityZone,
      });
      // Route tables matter only to gateway endpoints and routes, which this stack never adds.
      Annotations.of(subnet).acknowledgeWarning(
        '@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'the subnet only hosts Lambda and interface-endpoint network interfaces',
      );
      return subnet;
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'Functions', {
      vpc: this.vpc,
      description: 'kubestash-irsa Lambdas: HTTPS out to the API servers and AWS APIs only',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to EKS API servers and AWS APIs',
    );

    const manual = props.clusterIngress === 'manual';
    const commands: { cluster: string; command: string }[] = [];
    for (const cluster of props.clusters) {
      if (manual) {
        commands.push({
          cluster: cluster.name,
          command: Fn.join('', [
            `aws ec2 authorize-security-group-ingress --group-id ${cluster.securityGroupId} --protocol tcp --port 443 --source-group `,
            this.securityGroup.securityGroupId,
          ]),
        });
        continue;
      }
      // mutable: the stack adds one AWS::EC2::SecurityGroupIngress to the cluster's group.
      ec2.SecurityGroup.fromSecurityGroupId(
        this,
        `Cluster${alphanumeric(cluster.name)}`,
        cluster.securityGroupId,
        { allowAllOutbound: false },
      ).addIngressRule(
        this.securityGroup,
        ec2.Port.tcp(443),
        `kubestash-irsa Lambdas to the ${cluster.name} API server`,
      );
    }
    this.ingressCommands = commands;

    const services = props.interfaceEndpoints ?? [];
    if (services.length === 0) {
      this.endpoints = [];
      return;
    }
    const endpointGroup = new ec2.SecurityGroup(this, 'Endpoints', {
      vpc: this.vpc,
      description: 'kubestash-irsa interface endpoints: HTTPS from the Lambdas only',
      allowAllOutbound: false,
    });
    endpointGroup.addIngressRule(
      this.securityGroup,
      ec2.Port.tcp(443),
      'HTTPS from kubestash-irsa Lambdas',
    );
    this.endpoints = services.map(
      (service) =>
        new ec2.InterfaceVpcEndpoint(this, `Endpoint${alphanumeric(service.shortName)}`, {
          vpc: this.vpc,
          service,
          subnets: { subnets: [...this.subnets] },
          securityGroups: [endpointGroup],
          // Only the group above admits callers; `open` would add the VPC's whole CIDR.
          open: false,
          privateDnsEnabled: true,
        }),
    );
  }

  /** Props that put a function in these subnets with the Lambdas' security group. */
  placement(): FunctionPlacement {
    return {
      vpc: this.vpc,
      vpcSubnets: { subnets: [...this.subnets] },
      securityGroups: [this.securityGroup],
    };
  }

  /**
   * What Lambda needs of an execution role it did not create to attach the
   * function to the VPC (it creates and deletes the network interfaces with
   * the function's role): the actions of AWSLambdaVPCAccessExecutionRole,
   * without its logs:* and scoped where EC2 allows it. The two Describe
   * actions accept only `"Resource": "*"`
   * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions).
   */
  grantNetworkInterfaces(role: iam.IRole): void {
    const stack = Stack.of(this);
    const arn = (resource: string) =>
      stack.formatArn({ service: 'ec2', resource, resourceName: undefined });
    const interfaces = arn('network-interface/*');
    const statements = [
      new iam.PolicyStatement({
        sid: 'CreateFunctionInterfaces',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          interfaces,
          arn(`security-group/${this.securityGroup.securityGroupId}`),
          ...this.subnets.map((s) => arn(`subnet/${s.subnetId}`)),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'ManageFunctionInterfaces',
        actions: [
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: [interfaces],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeFunctionInterfaces',
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
    ];
    statements.forEach((s) => role.addToPrincipalPolicy(s));
    acknowledgeWildcardResources(
      role,
      statements,
      'Lambda names a VPC function’s network interfaces at run time (network-interface/* of this account and Region), and EC2 accepts ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets only on "*"; the actions are those of AWSLambdaVPCAccessExecutionRole without its logs:*.',
      (key) => key === 'Resource::*' || key.endsWith(':network-interface/*'),
    );
  }
}
