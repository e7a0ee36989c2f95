import type { KubernetesHttpClient } from '../../../lambda/adapters/kubernetes/kubernetes-http-client';
import { annotateServiceAccounts } from '../../../lambda/reconciler/annotate-service-accounts';
import type { KubernetesTestServer } from '../../support/kubernetes-test-server';
import { startConnectedTestServer } from '../../support/kubernetes-test-server';

let server: KubernetesTestServer;
let kube: KubernetesHttpClient;
beforeAll(async () => {
  ({ server, kube } = await startConnectedTestServer({ token: 'k8s-aws-v1.annotate' }));
});
afterAll(async () => {
  await kube.close();
  await server.stop();
});

const write = (name: string, uid: string | undefined) => ({
  cluster: 'prod',
  namespace: 'demo',
  name,
  annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::123456789012:role/R-${name}` },
  uid,
  tag: name,
});

test('writes each ServiceAccount bound to its uid; one deleted (404) or re-created under its name (uid mismatch) is skipped; returns the writes that took, in order', async () => {
  const kept = server.addServiceAccount({ namespace: 'demo', name: 'kept' }) as {
    metadata: { uid: string };
  };
  const other = server.addServiceAccount({ namespace: 'demo', name: 'also' }) as {
    metadata: { uid: string };
  };
  server.addServiceAccount({ namespace: 'demo', name: 'recreated' });
  const took = await annotateServiceAccounts(
    () => kube,
    [
      write('kept', kept.metadata.uid),
      write('gone', 'uid-of-a-deleted-one'),
      write('recreated', 'uid-of-the-one-read'),
      write('also', other.metadata.uid),
    ],
  );
  expect(took.map((w) => w.tag)).toEqual(['kept', 'also']);
  expect(server.serviceAccount('demo', 'kept')).toMatchObject({
    metadata: { annotations: { 'eks.amazonaws.com/role-arn': expect.stringContaining('R-kept') } },
  });
  expect(
    (server.serviceAccount('demo', 'recreated') as { metadata: { annotations?: object } }).metadata
      .annotations ?? {},
  ).not.toHaveProperty(['eks.amazonaws.com/role-arn']);
});

test('any other refusal rejects (RBAC: 403)', async () => {
  const sa = server.addServiceAccount({ namespace: 'demo', name: 'forbidden' }) as {
    metadata: { uid: string };
  };
  const rules = server.rbacRules;
  server.rbacRules = [];
  try {
    await expect(
      annotateServiceAccounts(() => kube, [write('forbidden', sa.metadata.uid)]),
    ).rejects.toThrow(/403/);
  } finally {
    server.rbacRules = rules;
  }
});
