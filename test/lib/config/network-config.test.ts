import { ConfigError, loadConfig } from '../../../lib/config';
import type { ProjectConfigInput } from '../../../lib/config';
import { apisCalledFromVpc } from '../../../lib/config/network-config';
import { exampleConfigInput } from '../../support/example-app';

const NETWORK = {
  vpcId: 'vpc-0123456789abcdef0',
  subnets: [
    { id: 'subnet-0a1b2c3d4e5f60001', availabilityZone: 'us-east-1a' },
    { id: 'subnet-0a1b2c3d4e5f60002', availabilityZone: 'us-east-1b' },
  ],
};
const CLUSTER_SG = 'sg-0123456789abcdef0';

function load(modify: (c: ProjectConfigInput) => void) {
  const input = exampleConfigInput();
  modify(input);
  return loadConfig({ config: input });
}

function problems(modify: (c: ProjectConfigInput) => void): readonly string[] {
  try {
    load(modify);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the config to be rejected');
}

describe('network configuration', () => {
  test('a public cluster needs no network, and gets none by default', () => {
    const config = load(() => {});
    expect(config.clusters[0].endpointAccess).toBe('public');
    expect(config.network).toBeUndefined();
  });

  test('a private cluster with subnets and its security group is accepted, defaults filled in', () => {
    const config = load((c) => {
      c.clusters[0].endpointAccess = 'private';
      c.clusters[0].securityGroupId = CLUSTER_SG;
      c.network = NETWORK;
    });
    expect(config.network).toMatchObject({
      natRoute: true,
      interfaceEndpoints: false,
      clusterIngress: 'stack',
    });
  });

  test('a private cluster without subnets names the fix', () => {
    expect(
      problems((c) => {
        c.clusters[0].endpointAccess = 'private';
        c.clusters[0].securityGroupId = CLUSTER_SG;
      }),
    ).toEqual([
      expect.stringMatching(
        /^config\.clusters\.0\.endpointAccess: got "private": .*reachable only inside its VPC: set network\.vpcId and network\.subnets/,
      ),
    ]);
  });

  test('a private cluster without its security group names the command that prints it', () => {
    expect(
      problems((c) => {
        c.clusters[0].endpointAccess = 'private';
        c.network = NETWORK;
      }),
    ).toEqual([
      expect.stringContaining(
        'config.clusters.0.securityGroupId: got nothing: a private cluster admits the Lambdas through its cluster security group: set securityGroupId to the output of `aws eks describe-cluster --name prod-cluster --query cluster.resourcesVpcConfig.clusterSecurityGroupId`',
      ),
    ]);
  });

  test('an allowlisted public endpoint without a network names the NAT and its Elastic IP', () => {
    expect(
      problems((c) => {
        c.clusters[0].endpointAccess = 'public-allowlist';
      }),
    ).toEqual([expect.stringContaining("add the NAT gateway's Elastic IP to publicAccessCidrs")]);
  });

  test('subnets with neither a NAT route nor endpoints reach no AWS API', () => {
    expect(
      problems((c) => {
        c.clusters[0].endpointAccess = 'private';
        c.clusters[0].securityGroupId = CLUSTER_SG;
        c.network = { ...NETWORK, natRoute: false };
      }),
    ).toEqual([expect.stringMatching(/^config\.network\.natRoute: got false: .*reach no AWS API/)]);
  });

  test('without a NAT route outside IAM’s control-plane Region, the config says IAM has no endpoint there', () => {
    expect(
      problems((c) => {
        c.region = 'eu-west-1';
        c.clusters[0].endpointAccess = 'private';
        c.clusters[0].securityGroupId = CLUSTER_SG;
        c.network = {
          ...NETWORK,
          subnets: [{ id: 'subnet-0a1b2c3d4e5f60001', availabilityZone: 'eu-west-1a' }],
          natRoute: false,
          interfaceEndpoints: true,
        };
      }),
    ).toEqual([
      expect.stringContaining(
        "IAM's API has no interface endpoint in eu-west-1 (only in us-east-1, us-gov-west-1, cn-north-1)",
      ),
    ]);
  });

  test('endpoints only: accepted in us-east-1, where IAM has one', () => {
    const config = load((c) => {
      c.clusters[0].endpointAccess = 'private';
      c.clusters[0].securityGroupId = CLUSTER_SG;
      c.network = { ...NETWORK, natRoute: false, interfaceEndpoints: true };
    });
    expect(apisCalledFromVpc(config)).toEqual(['eks', 'iam', 'sts', 'events', 'secretsmanager']);
  });

  test('a public cluster cannot be reached from subnets without a NAT route', () => {
    expect(
      problems((c) => {
        c.network = { ...NETWORK, natRoute: false, interfaceEndpoints: true };
      }),
    ).toEqual([
      expect.stringContaining('set network.natRoute to true, or mark the cluster "private"'),
    ]);
  });

  test('interface endpoints take one subnet per zone; subnets must be in the stack’s Region', () => {
    expect(
      problems((c) => {
        c.network = {
          ...NETWORK,
          interfaceEndpoints: true,
          subnets: [
            ...NETWORK.subnets,
            { id: 'subnet-0a1b2c3d4e5f60003', availabilityZone: 'us-east-1a' },
            { id: 'subnet-0a1b2c3d4e5f60004', availabilityZone: 'eu-west-1a' },
          ],
        };
      }),
    ).toEqual([
      expect.stringContaining('config.network.subnets.2: got'),
      expect.stringContaining('the stack deploys to us-east-1; use subnets of that Region'),
    ]);
  });

  test.each([
    ['vpcId', { ...NETWORK, vpcId: 'vpc-1' }, 'use the cluster VPC id'],
    [
      'subnet id',
      { ...NETWORK, subnets: [{ id: 'sub-1', availabilityZone: 'us-east-1a' }] },
      'use a subnet id',
    ],
    ['empty subnets', { ...NETWORK, subnets: [] }, 'list the private subnets'],
  ])(
    'malformed %s is refused with the command that prints the right value',
    (_n, network, message) => {
      expect(
        problems((c) => {
          c.network = network;
        }),
      ).toEqual([expect.stringContaining(message)]);
    },
  );

  test('the APIs to give endpoints follow the gate and the Region', () => {
    const base = { region: 'eu-west-1', jobGate: { enabled: false, proveAccess: true } };
    expect(apisCalledFromVpc(base)).toEqual(['eks']);
    expect(apisCalledFromVpc({ ...base, jobGate: { enabled: true, proveAccess: false } })).toEqual([
      'eks',
      'events',
      'secretsmanager',
    ]);
  });
});
