import { z } from 'zod';

/**
 * How the stack's Lambdas reach a cluster's API server and the AWS APIs when
 * the cluster is not reachable from the internet. Everything is given
 * explicitly (ids, Availability Zones) so synthesis needs no lookup and no
 * credentials. The long form, with sources, is docs/private-clusters.md.
 */

/**
 * The cluster endpoint access the project must plan for
 * (https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html):
 * - `public`: the API server answers on the internet; the Lambdas run outside any VPC;
 * - `public-allowlist`: public, but only to `publicAccessCidrs`; the Lambdas run in
 *   the VPC and leave it through a NAT gateway whose Elastic IP is on that list;
 * - `private`: reachable only inside the cluster's VPC (and networks routed to it);
 *   the Lambdas run in its private subnets and the cluster security group admits them.
 */
export const ENDPOINT_ACCESS_MODES = ['public', 'public-allowlist', 'private'] as const;
export type EndpointAccess = (typeof ENDPOINT_ACCESS_MODES)[number];

export const endpointAccessSchema = z
  .enum(ENDPOINT_ACCESS_MODES, {
    error:
      'choose "public", "public-allowlist" (public endpoint limited to publicAccessCidrs) or "private"; `aws eks describe-cluster --query cluster.resourcesVpcConfig` shows endpointPublicAccess, publicAccessCidrs and endpointPrivateAccess',
  })
  .default('public');

const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/;
const VPC_ID = /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/;
const AVAILABILITY_ZONE = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;

export const securityGroupIdSchema = z
  .string()
  .regex(
    SECURITY_GROUP_ID,
    'use the cluster security group id, as `aws eks describe-cluster --query cluster.resourcesVpcConfig.clusterSecurityGroupId` prints it (sg-…)',
  );

const subnetSchema = z.strictObject({
  id: z
    .string()
    .regex(
      SUBNET_ID,
      'use a subnet id (subnet-…) of a private subnet of the cluster VPC, as `aws eks describe-cluster --query cluster.resourcesVpcConfig.subnetIds` lists them',
    ),
  availabilityZone: z
    .string()
    .regex(
      AVAILABILITY_ZONE,
      'give the subnet’s Availability Zone as `aws ec2 describe-subnets --subnet-ids <id> --query Subnets[].AvailabilityZone` prints it, e.g. eu-west-1a',
    ),
});

export const networkSchema = z
  .strictObject({
    vpcId: z
      .string()
      .regex(
        VPC_ID,
        'use the cluster VPC id, as `aws eks describe-cluster --query cluster.resourcesVpcConfig.vpcId` prints it',
      ),
    subnets: z
      .array(subnetSchema)
      .min(1, 'list the private subnets the Lambdas run in (two Availability Zones or more)'),
    natRoute: z
      .boolean()
      .default(true)
      .describe(
        'the subnets route 0.0.0.0/0 to a NAT gateway: needed for IAM outside its control-plane Region and for public endpoints',
      ),
    interfaceEndpoints: z
      .boolean()
      .default(false)
      .describe(
        'create interface VPC endpoints for the AWS APIs the Lambdas call (EKS, STS, EventBridge, and IAM where it has one); leave false when the VPC has them already',
      ),
    clusterIngress: z
      .enum(['stack', 'manual'], {
        error:
          'choose "stack" (the stack adds the 443 rule to each cluster security group) or "manual" (it prints the command instead)',
      })
      .default('stack'),
  })
  .describe(
    'the VPC the reconciler (and job gate) run in; one per stack: see docs/private-clusters.md',
  );

export type NetworkConfig = z.output<typeof networkSchema>;

/**
 * Regions that hold IAM's control plane, the only place an IAM interface
 * endpoint (`com.amazonaws.iam`) can be created, one per partition
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam_vpc_endpoint_create.html).
 */
export const IAM_CONTROL_PLANE_REGIONS: ReadonlySet<string> = new Set([
  'us-east-1',
  'us-gov-west-1',
  'cn-north-1',
]);

/** What the network checks need of a cluster. */
export interface NetworkedCluster {
  readonly name: string;
  readonly endpointAccess: EndpointAccess;
  readonly securityGroupId?: string;
}

/**
 * Refuses the combinations that would leave the Lambdas unable to reach a
 * cluster or an AWS API: every message names the fix. Public clusters with no
 * network stay exactly as before (the Lambdas run outside any VPC).
 */
export function checkNetwork(
  config: {
    readonly region: string;
    readonly clusters: readonly NetworkedCluster[];
    readonly network?: NetworkConfig;
  },
  ctx: z.RefinementCtx,
): void {
  const { network } = config;
  config.clusters.forEach((cluster, i) => {
    const path = ['clusters', i];
    if (network === undefined && cluster.endpointAccess === 'private') {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'endpointAccess'],
        message: `cluster ${cluster.name}'s API server is reachable only inside its VPC: set network.vpcId and network.subnets (private subnets of the cluster VPC) so the Lambdas run there`,
      });
    }
    if (network === undefined && cluster.endpointAccess === 'public-allowlist') {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'endpointAccess'],
        message: `cluster ${cluster.name}'s public endpoint admits only publicAccessCidrs, and a Lambda outside a VPC has no fixed address: set network (private subnets with a NAT route) and add the NAT gateway's Elastic IP to publicAccessCidrs`,
      });
    }
    if (cluster.endpointAccess === 'private' && cluster.securityGroupId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'securityGroupId'],
        message: `a private cluster admits the Lambdas through its cluster security group: set securityGroupId to the output of \`aws eks describe-cluster --name ${cluster.name} --query cluster.resourcesVpcConfig.clusterSecurityGroupId\``,
      });
    }
    if (network?.natRoute === false && cluster.endpointAccess !== 'private') {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'endpointAccess'],
        message: `cluster ${cluster.name} is reached on its public endpoint, which a VPC reaches only through a NAT gateway: route the subnets to one and set network.natRoute to true, or mark the cluster "private" if its private endpoint is on`,
      });
    }
  });
  if (network === undefined) return;
  if (!network.natRoute && !network.interfaceEndpoints) {
    ctx.addIssue({
      code: 'custom',
      path: ['network', 'natRoute'],
      message:
        'without a NAT route or interface endpoints the Lambdas reach no AWS API: route the subnets to a NAT gateway (natRoute true) or set interfaceEndpoints to true',
    });
  }
  if (!network.natRoute && !IAM_CONTROL_PLANE_REGIONS.has(config.region)) {
    ctx.addIssue({
      code: 'custom',
      path: ['network', 'natRoute'],
      message: `IAM's API has no interface endpoint in ${config.region} (only in ${[...IAM_CONTROL_PLANE_REGIONS].join(', ')}), and the reconciler writes IAM roles: route the subnets to a NAT gateway and set natRoute to true`,
    });
  }
  const zones = network.subnets.map((s) => s.availabilityZone);
  zones.forEach((zone, i) => {
    if (!zone.startsWith(config.region)) {
      ctx.addIssue({
        code: 'custom',
        path: ['network', 'subnets', i, 'availabilityZone'],
        message: `the stack deploys to ${config.region}; use subnets of that Region`,
      });
    }
    if (network.interfaceEndpoints && zones.indexOf(zone) !== i) {
      ctx.addIssue({
        code: 'custom',
        path: ['network', 'subnets', i],
        message: `an interface endpoint takes one subnet per Availability Zone, and ${zone} is listed twice: keep one subnet per zone or set interfaceEndpoints to false`,
      });
    }
  });
}

/** An AWS API the Lambdas in the VPC call, by its endpoint service short name. */
export type CalledApi = 'eks' | 'iam' | 'sts' | 'events' | 'secretsmanager';

/**
 * The AWS APIs the Lambdas placed in the VPC call, so the stack creates
 * interface endpoints for those and no more. CloudWatch Logs and metrics (the
 * Lambda service ships the logs; metrics are embedded in them) and SQS (the
 * event source mapping polls it) need no route from the subnets.
 * - eks: DescribeCluster, for the API server's address and CA;
 * - iam: the reconciler's reads and writes of derived roles (an endpoint only
 *   in the partition's control-plane Region, see {@link IAM_CONTROL_PLANE_REGIONS});
 * - sts: AssumeRoleWithWebIdentity, when the reconciler proves access before releasing a Job;
 * - events: the job gate's hint on the bus;
 * - secretsmanager: the job gate reads its webhook tokens.
 */
export function apisCalledFromVpc(config: {
  readonly region: string;
  readonly jobGate: { readonly enabled: boolean; readonly proveAccess: boolean };
}): CalledApi[] {
  return [
    'eks',
    ...(IAM_CONTROL_PLANE_REGIONS.has(config.region) ? (['iam'] as const) : []),
    ...(config.jobGate.enabled && config.jobGate.proveAccess ? (['sts'] as const) : []),
    ...(config.jobGate.enabled ? (['events', 'secretsmanager'] as const) : []),
  ];
}
