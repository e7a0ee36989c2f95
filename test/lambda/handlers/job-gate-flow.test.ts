import { GateFlow } from '../../support/gate-flow';

/**
 * End to end on this machine: gate → bus → FIFO queue → reconciler → release,
 * with moto for IAM, STS, EventBridge and SQS and the Kubernetes test server
 * for the cluster (see GateFlow for what is played and what is real).
 */
let flow: GateFlow;
beforeAll(async () => {
  flow = await GateFlow.start();
});
afterAll(async () => {
  await flow.stop();
});

test('every Job KubeStash creates is held until its ServiceAccount has a proven role, then released', async () => {
  const names = Array.from(
    { length: 12 },
    (_, i) => `sample-backup-daemon-demo-session-${1778072138 + i * 300}`,
  );
  for (const name of names) {
    const { gated } = await flow.createSession(name);
    expect(gated).toBe(true);
    expect(flow.suspended(name)).toBe(true);
  }
  // The queue keeps one message per seed, kind and second (pinned in test/lib/reconcile-queue.test.ts).
  expect(await flow.drain()).toBeGreaterThan(0);
  for (const name of names) expect(flow.suspended(name)).toBe(false);
  expect(flow.waits()).toHaveLength(12);

  // Each ServiceAccount got a role, annotated after one proof of the role version that holds them all.
  for (const name of names) {
    const sa = flow.server.serviceAccount('demo', name) as {
      metadata: { annotations: Record<string, string> };
    };
    expect(sa.metadata.annotations['eks.amazonaws.com/role-arn']).toMatch(
      /^arn:aws:iam::123456789012:role\/kubestash-irsa\/KubestashRole-\d+$/,
    );
  }
  expect(flow.server.issuedTokens).toHaveLength(1);
  expect(names).toContain(flow.server.issuedTokens[0]?.name);

  // Nothing is left to do: the queue is empty and a Job released stays released.
  expect(await flow.drain()).toBe(0);
});
