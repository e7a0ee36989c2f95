import { GateFlow } from '../../support/gate-flow';
import { kubestashObjects } from '../../support/kubestash-objects';
import type { KubestashObjects } from '../../support/kubestash-objects';

/**
 * Each object KubeStash really creates (test/fixtures/kubestash-objects, see
 * its README for where each shape comes from) run end to end on this
 * machine: the real gate handler at admission, its hint through the bus and
 * the FIFO queue (moto), the real reconcile handler granting the role (moto
 * IAM), proving it (a TokenRequest token, moto STS) and releasing the Job on
 * the Kubernetes test server. See GateFlow for what is played and what is real.
 */
let flow: GateFlow;
beforeAll(async () => {
  // The archiver's ServiceAccount lives with its database, in namespace `databases`.
  flow = await GateFlow.start({ allowedNamespaces: ['demo', 'databases'] });
});
afterAll(async () => {
  await flow.stop();
});

const ROLE_ARN = 'eks.amazonaws.com/role-arn';
const GATE = 'kubestash-irsa.io/gate';
const DERIVED = /^arn:aws:iam::123456789012:role\/kubestash-irsa\/KubestashRole-\d+$/;

type Json = Record<string, unknown>;
interface Stored {
  metadata: { annotations?: Record<string, string> };
  spec: { suspend: boolean };
}

/** Every Job admitted in this file: none may end suspended by the gate. */
const admitted: { namespace: string; name: string }[] = [];

async function admit(objects: KubestashObjects): Promise<boolean> {
  const job = objects.job;
  if (job === undefined) throw new Error(`${objects.file} has no Job`);
  admitted.push({ namespace: job.metadata.namespace, name: job.metadata.name });
  return (await flow.admitJob(objects)).gated;
}

function storedJob(objects: KubestashObjects): Stored {
  const job = objects.job;
  if (job === undefined) throw new Error(`${objects.file} has no Job`);
  const stored = flow.server.job(job.metadata.namespace, job.metadata.name);
  if (stored === undefined) throw new Error(`${job.metadata.name} was not stored`);
  return stored as unknown as Stored;
}

function roleOf(objects: KubestashObjects): string | undefined {
  const { namespace, name } = objects.serviceAccount.metadata;
  const sa = flow.server.serviceAccount(namespace, name) as
    { metadata: { annotations?: Record<string, string> } } | undefined;
  return sa?.metadata.annotations?.[ROLE_ARN];
}

/** The fixture's objects under another session's names (a later schedule tick of the same session). */
function nextTick(objects: KubestashObjects, from: string, to: string): KubestashObjects {
  return JSON.parse(JSON.stringify(objects).replaceAll(from, to)) as KubestashObjects;
}

function eventsOn(kind: string, name: string): { reason: string; type: string }[] {
  return flow.server.events
    .map((e) => e as Json & { involvedObject: Json; reason: string; type: string })
    .filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name);
}

test('trigger Job (CronJob trigger-app-backup-daily, ServiceAccount without a seed annotation) is never held', async () => {
  const objects = kubestashObjects('trigger-job.yaml');
  await flow.createServiceAccount(objects);
  expect(await admit(objects)).toBe(false);
  expect(await flow.drain()).toBe(0);
  const job = storedJob(objects);
  expect(job.spec.suspend).toBe(false);
  expect(job.metadata.annotations?.[GATE]).toBeUndefined();
  // It needs no AWS access: its ServiceAccount gets no role.
  expect(roleOf(objects)).toBeUndefined();
});

test('backup Job running as the user-supplied ServiceAccount backup-runner (a role of its own) is never held', async () => {
  const objects = kubestashObjects('user-serviceaccount-job.yaml');
  await flow.createServiceAccount(objects);
  expect(await admit(objects)).toBe(false);
  expect(await flow.drain()).toBe(0);
  expect(storedJob(objects).spec.suspend).toBe(false);
  expect(roleOf(objects)).toBe('arn:aws:iam::111122223333:role/team-a-backup-runner');
});

describe.each([
  ['backup Job (BackupConfiguration app-backup, session daily)', 'backup-session.yaml'],
  ['retention-policy Job (kubestash-cleaner of app-backup daily)', 'retention-session.yaml'],
  ['restore Job (RestoreSession app-restore)', 'restore-session.yaml'],
])('%s', (_, file) => {
  test('is held at admission, then released once its ServiceAccount has a proven derived role', async () => {
    const objects = kubestashObjects(file);
    await flow.createServiceAccount(objects);
    expect(await admit(objects)).toBe(true);
    expect(storedJob(objects).spec.suspend).toBe(true);
    expect(roleOf(objects)).toBeUndefined();
    const tokens = flow.server.issuedTokens.length;

    expect(await flow.drain()).toBeGreaterThan(0);
    const job = storedJob(objects);
    expect(job.spec.suspend).toBe(false);
    expect(job.metadata.annotations?.[GATE]).toBe('released');
    expect(roleOf(objects)).toMatch(DERIVED);
    // The role version was proven (a TokenRequest token of one of its ServiceAccounts) before the annotation.
    expect(flow.server.issuedTokens.length).toBeGreaterThan(tokens);
    expect(eventsOn('Job', objects.job?.metadata.name ?? '').map((e) => e.reason)).toContain(
      'Released',
    );
  });
});

test("KubeDB archiver's long-lived ServiceAccount pg-main-archiver is granted a derived role", async () => {
  const objects = kubestashObjects('archiver-serviceaccount.yaml');
  // No Job: the audit-log forwarder's event for the ServiceAccount is what brings the reconciler.
  await flow.createServiceAccount(objects, true);
  expect(await flow.drain()).toBeGreaterThan(0);
  expect(roleOf(objects)).toMatch(DERIVED);
});

test('backup Job whose ServiceAccount KubeStash creates a moment after the Job is held, waits for it, then is released', async () => {
  const objects = nextTick(kubestashObjects('backup-session.yaml'), '1780000200', '1780086600');
  // The Job first: the gate finds no ServiceAccount, and holds it as a session Job.
  expect(await admit(objects)).toBe(true);
  expect(await flow.drain()).toBeGreaterThan(0);
  const waiting = storedJob(objects);
  expect(waiting.spec.suspend).toBe(true);
  expect(waiting.metadata.annotations?.[GATE]).toBe('held');
  // It is told why it waits, not stranded without a word.
  expect(eventsOn('Job', objects.job?.metadata.name ?? '').map((e) => e.reason)).toContain(
    'ServiceAccountNotFound',
  );

  // Then its ServiceAccount, which EKS's audit log brings to the reconciler.
  await flow.createServiceAccount(objects, true);
  expect(await flow.drain()).toBeGreaterThan(0);
  expect(storedJob(objects).spec.suspend).toBe(false);
  expect(roleOf(objects)).toMatch(DERIVED);
});

test('nothing is stranded: no Job admitted above is left suspended, and the queue is empty', async () => {
  expect(admitted.length).toBeGreaterThanOrEqual(6);
  for (const { namespace, name } of admitted) {
    expect({ name, suspended: flow.suspended(name, namespace) }).toEqual({
      name,
      suspended: false,
    });
  }
  expect(await flow.drain()).toBe(0);
});
