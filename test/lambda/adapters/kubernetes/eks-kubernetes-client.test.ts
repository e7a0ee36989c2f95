import { EksClusterConnector } from '../../../../lambda/adapters/kubernetes/eks-cluster-connector';
import { eksKubernetesClient } from '../../../../lambda/adapters/kubernetes/eks-kubernetes-client';
import type { KubernetesHttpClient } from '../../../../lambda/adapters/kubernetes/kubernetes-http-client';
import { KUBERNETES_RBAC_RULES } from '../../../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import { KubernetesUnauthorizedError } from '../../../../lambda/ports/kubernetes-port';
import { KubernetesTestServer } from '../../../support/kubernetes-test-server';
import { eksClientFor } from './fake-eks-client';
import { verifiesAsEksToken } from './sigv4-reference';

const CREDENTIALS = {
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'secret',
  sessionToken: 'session',
};

let server: KubernetesTestServer;
const clients: KubernetesHttpClient[] = [];
beforeAll(async () => {
  server = await new KubernetesTestServer({
    // Only tokens signed for cluster "prod" with the reconciler's key get in.
    acceptToken: (token) => verifiesAsEksToken(token, 'prod', 'us-east-1', CREDENTIALS),
    rbacRules: KUBERNETES_RBAC_RULES,
  }).start();
});
afterEach(async () => {
  server.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.stop();
});

function wire(clusterNames: string[]) {
  const describeCalls: string[] = [];
  const cluster = {
    status: 'ACTIVE',
    endpoint: server.url,
    certificateAuthority: { data: Buffer.from(server.caPem).toString('base64') },
  };
  const connector = new EksClusterConnector(
    eksClientFor(
      Object.fromEntries(clusterNames.map((n) => [n, { ...cluster, name: n }])),
      describeCalls,
    ),
  );
  let credentialLookups = 0;
  const build = (clusterName: string) => {
    const client = eksKubernetesClient({
      clusterName,
      region: 'us-east-1',
      connector,
      credentials: async () => {
        credentialLookups += 1;
        return CREDENTIALS;
      },
      http: { retry: { baseDelayMs: 1 } },
    });
    clients.push(client);
    return client;
  };
  return { build, describeCalls, credentialLookups: () => credentialLookups };
}

describe('eksKubernetesClient', () => {
  test('DescribeCluster once, an EKS token the authenticator accepts, reused across calls', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    const { build, describeCalls, credentialLookups } = wire(['prod']);
    const client = build('prod');
    expect(describeCalls).toEqual([]); // nothing happens before the first call
    await expect(client.listServiceAccounts('demo')).resolves.toHaveLength(1);
    await expect(client.getServiceAccount('demo', 'sa')).resolves.toBeDefined();
    expect(describeCalls).toEqual(['GET /clusters/prod']);
    expect(credentialLookups()).toBe(1);
    const [first, second] = server.requests;
    expect(first.authorization).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    expect(second.authorization).toBe(first.authorization);
  });

  test('a token is bound to its cluster: one signed for another cluster is refused', async () => {
    const { build } = wire(['staging']);
    const error = await build('staging')
      .listServiceAccounts('demo')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesUnauthorizedError);
    // Refused, re-signed once, refused again.
    expect(server.requests.map((r) => r.status)).toEqual([401, 401]);
  });
});
