/**
 * The pod-identity pass end to end through the real handler: moto_server
 * (IAM; EKS clusters), EKS Pod Identity associations played at the HTTP level
 * as the EKS API reference documents them (moto has none:
 * test/support/eks-pod-identity-handler.ts), and the Kubernetes test server.
 * Faults: a crash between creating an association and releasing its Job,
 * duplicate events, the quota reached.
 */
import { podIdentityHarness, POD_CLUSTER, POD_SEED_ARN } from '../../support/pod-identity-harness';
import { motoForEachTest } from '../../support/moto-for-jest';

const MARKER = { 'klusters.dev/pod-identity-association-id': 'a-operator00000000001' };
const moto = motoForEachTest();

function heldJob(name: string, serviceAccount: string) {
  return {
    namespace: 'demo',
    name,
    labels: {
      'app.kubernetes.io/managed-by': 'kubestash.com',
      'app.kubernetes.io/component': 'kubestash-backup',
    },
    annotations: { 'kubestash-irsa.io/gate': 'held' },
    serviceAccountName: serviceAccount,
    suspend: true,
  };
}

describe('reconcilePodIdentitySeed', () => {
  test('one association per new ServiceAccount, none on resync, ours deleted when the ServiceAccount goes', async () => {
    const h = await podIdentityHarness(moto.endpoint);
    try {
      h.server.addServiceAccount({ namespace: 'demo', name: 'sa-1', annotations: MARKER });
      h.server.addServiceAccount({ namespace: 'demo', name: 'sa-2', annotations: MARKER });
      // A trigger Job's ServiceAccount (no mark, no session Job) and a user's own role: neither.
      h.server.addServiceAccount({ namespace: 'demo', name: 'trigger-app-daily' });
      h.server.addServiceAccount({
        namespace: 'demo',
        name: 'mine',
        annotations: {
          ...MARKER,
          'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/Mine',
        },
      });
      expect((await h.deliver(['sa-1', 'sa-2'])).batchItemFailures).toEqual([]);
      expect(h.eksHandler.count('Create')).toBe(2);
      expect([...h.eksHandler.snapshot()]).toEqual([
        [`${POD_CLUSTER}/demo/sa-1`, POD_SEED_ARN],
        [`${POD_CLUSTER}/demo/sa-2`, POD_SEED_ARN],
      ]);
      expect(h.associated('sa-1')).toMatch(/^a-/);
      // Resync: nothing written.
      await h.deliver(['resync']);
      expect(h.eksHandler.count('Create')).toBe(2);
      expect(h.eksHandler.count('Delete')).toBe(0);
      // Gone: ours is deleted; someone else's association stays.
      h.eksHandler.seed({
        clusterName: POD_CLUSTER,
        namespace: 'demo',
        serviceAccount: 'other',
        roleArn: 'arn:aws:iam::123456789012:role/Theirs',
        tags: {},
      });
      h.server.deleteServiceAccount('demo', 'sa-2');
      await h.deliver(['sa-2']);
      expect([...h.eksHandler.snapshot().keys()].sort()).toEqual([
        `${POD_CLUSTER}/demo/other`,
        `${POD_CLUSTER}/demo/sa-1`,
      ]);
    } finally {
      await h.close();
    }
  }, 60000);

  test('a held session Job is released once its association has settled', async () => {
    const waits: number[] = [];
    const h = await podIdentityHarness(moto.endpoint, {
      gate: true,
      settleSeconds: 5,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    try {
      // KubeStash made no mark here: the session Job names the ServiceAccount.
      h.server.addServiceAccount({ namespace: 'demo', name: 'app-backup-session-1' });
      h.server.addJob(heldJob('app-backup-session-1', 'app-backup-session-1'));
      await h.deliver(['app-backup-session-1']);
      expect(waits).toHaveLength(1);
      expect(waits[0]).toBeGreaterThan(4000);
      expect(waits[0]).toBeLessThanOrEqual(5000);
      const job = h.server.job('demo', 'app-backup-session-1') as {
        spec: { suspend: boolean };
        metadata: { annotations: Record<string, string> };
      };
      expect(job.spec.suspend).toBe(false);
      expect(job.metadata.annotations['kubestash-irsa.io/gate']).toBe('released');
    } finally {
      await h.close();
    }
  }, 60000);

  test('a crash between creating an association and releasing its Job: the next pass releases it, with no second create', async () => {
    const h = await podIdentityHarness(moto.endpoint, { gate: true });
    try {
      h.server.addServiceAccount({ namespace: 'demo', name: 'sa-1', annotations: MARKER });
      h.server.addJob(heldJob('job-1', 'sa-1'));
      h.eksHandler.crashAfter('Create');
      // The pass dies right after EKS made the association: the message returns to the queue.
      expect((await h.deliver(['sa-1'])).batchItemFailures).toHaveLength(1);
      expect(h.eksHandler.snapshot().size).toBe(1);
      expect((h.server.job('demo', 'job-1') as { spec: { suspend: boolean } }).spec.suspend).toBe(
        true,
      );
      await h.deliver(['sa-1']);
      expect(h.eksHandler.count('Create')).toBe(1);
      expect((h.server.job('demo', 'job-1') as { spec: { suspend: boolean } }).spec.suspend).toBe(
        false,
      );
      expect(h.associated('sa-1')).toMatch(/^a-/);
    } finally {
      await h.close();
    }
  }, 60000);

  test('duplicate events in one batch and across batches write once', async () => {
    const h = await podIdentityHarness(moto.endpoint);
    try {
      h.server.addServiceAccount({ namespace: 'demo', name: 'sa-1', annotations: MARKER });
      await h.deliver(['sa-1', 'sa-1', 'sa-1']);
      await h.deliver(['sa-1', 'sa-1']);
      expect(h.eksHandler.count('Create')).toBe(1);
    } finally {
      await h.close();
    }
  }, 60000);

  test('at the quota: the rest are refused with an Event, nothing breaks, the next pass grants once there is room', async () => {
    const h = await podIdentityHarness(moto.endpoint, { quota: 2 });
    try {
      for (const name of ['sa-a', 'sa-b', 'sa-c']) {
        h.server.addServiceAccount({ namespace: 'demo', name, annotations: MARKER });
      }
      expect((await h.deliver(['sa-a'])).batchItemFailures).toEqual([]);
      expect(h.eksHandler.snapshot().size).toBe(2);
      expect(h.associated('sa-c')).toBeUndefined();
      const events = (
        h.server.events as {
          reason?: string;
          message?: string;
          involvedObject?: { name?: string };
        }[]
      ).filter((e) => e.reason === 'AssociationQuotaReached');
      expect(events.map((e) => e.involvedObject?.name)).toEqual(['sa-c']);
      expect(events[0]?.message).toContain('Service Quotas');
      h.server.deleteServiceAccount('demo', 'sa-a');
      await h.deliver(['sa-a']);
      expect(h.associated('sa-c')).toMatch(/^a-/);
      expect(h.eksHandler.snapshot().size).toBe(2);
    } finally {
      await h.close();
    }
  }, 60000);
});
