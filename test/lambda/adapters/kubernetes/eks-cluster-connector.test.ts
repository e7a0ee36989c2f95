import { EksClusterConnector } from '../../../../lambda/adapters/kubernetes/eks-cluster-connector';
import { eksClientFor } from './fake-eks-client';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

function cluster(overrides: Record<string, unknown> = {}) {
  return {
    name: 'prod',
    status: 'ACTIVE',
    endpoint: 'https://ABC123.gr7.us-east-1.eks.amazonaws.com',
    certificateAuthority: { data: Buffer.from(CA_PEM).toString('base64') },
    ...overrides,
  };
}

describe('EksClusterConnector', () => {
  test('reads endpoint and CA from DescribeCluster, once per cluster', async () => {
    const paths: string[] = [];
    const connector = new EksClusterConnector(
      eksClientFor(
        { prod: cluster(), dev: cluster({ endpoint: 'https://DEV.eks.amazonaws.com/' }) },
        paths,
      ),
    );
    const [a, b] = await Promise.all([connector.connection('prod'), connector.connection('prod')]);
    expect(a).toEqual({ server: 'https://ABC123.gr7.us-east-1.eks.amazonaws.com', caPem: CA_PEM });
    expect(b).toBe(a);
    expect((await connector.connection('dev')).server).toBe('https://DEV.eks.amazonaws.com');
    await connector.connection('prod');
    expect(paths).toEqual(['GET /clusters/prod', 'GET /clusters/dev']);
  });

  test('a cluster without endpoint yet fails with its status, and is asked again next time', async () => {
    const clusters: Record<string, unknown> = {
      prod: cluster({ status: 'CREATING', endpoint: undefined }),
    };
    const connector = new EksClusterConnector(eksClientFor(clusters));
    await expect(connector.connection('prod')).rejects.toThrow(/status CREATING/);
    clusters.prod = cluster();
    await expect(connector.connection('prod')).resolves.toMatchObject({ caPem: CA_PEM });
  });

  test('refuses CA data that is not a PEM certificate', async () => {
    const connector = new EksClusterConnector(
      eksClientFor({ prod: cluster({ certificateAuthority: { data: 'bm90IGEgY2VydA==' } }) }),
    );
    await expect(connector.connection('prod')).rejects.toThrow(/not a base64-encoded PEM/);
  });

  test('an unknown cluster surfaces the SDK error', async () => {
    const connector = new EksClusterConnector(eksClientFor({}));
    await expect(connector.connection('nope')).rejects.toThrow(/No cluster found/);
  });
});
