/**
 * The reconcile handler fed the way SQS FIFO and EventBridge really deliver:
 * the same event twice, events out of order, a resync ahead of the event that
 * asked for it, a batch that fails half-way. The handler runs the real
 * reconcileSeed against moto and the Kubernetes test server; every assertion
 * is on what they hold afterwards.
 */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { IamAdapter } from '../../../lambda/adapters/iam/iam-adapter';
import { serviceAccountSubject } from '../../../lambda/domain/subject';
import { parseTrustPolicy } from '../../../lambda/domain/trust-policy';
import { DetailType, EVENT_SOURCE } from '../../../lambda/events/reconcile-event';
import { createReconcileHandler } from '../../../lambda/handlers/reconcile';
import { ROLE_ARN_ANNOTATION, SEED_ROLE_ANNOTATION } from '../../../lambda/ports/annotations';
import { reconcileSeed } from '../../../lambda/reconciler/reconcile-seed';
import type { FaultyAwsHandler } from '../../support/faulty-aws-handler';
import { MOTO_ACCOUNT } from '../../support/moto-server';
import { ReconcileHarness, SEED, SEED_ARN } from '../../support/reconcile-harness';

// These tests read the EMF lines, which test/support/jest-quiet-env.ts turns off for the rest.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

const PATH = '/kubestash-irsa/';
const h = ReconcileHarness.forJest();
/** Everything written to stdout during a test: the EMF lines the Metrics utility prints. */
let stdout: string[];
let restoreStdout: () => void;

beforeEach(async () => {
  await h.createSeed();
  stdout = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return true;
  });
  restoreStdout = () => spy.mockRestore();
});
afterEach(() => restoreStdout());

/** The handler as the Lambda builds it, over moto and the test server, with its IAM traffic recorded. */
function lambda() {
  const { client, handler: aws } = h.iam();
  const iam = new IamAdapter(client);
  const kube = h.kubernetes();
  let passes = 0;
  const handle = createReconcileHandler({
    env: { RECONCILER_SEEDS: [SEED], EMPTY_ROLE_GRACE_SECONDS: 3600 },
    reconcile: (seed, options) => {
      passes += 1;
      return reconcileSeed(
        { iam, kubernetes: () => kube, now: () => new Date('2026-11-22T12:00:00Z') },
        seed,
        options,
      );
    },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'KubestashIrsa', serviceName: 'reconciler' }),
    // The handler's clock is the one the events are stamped with: an event a
    // test creates after a pass was published after it, as in EventBridge.
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  });
  return { handle, aws, iam, passes: () => passes };
}

let sequence = 0;

/** An SQS FIFO record carrying an EventBridge event, as the event source mapping hands it over. */
function record(event: object | string, receiveCount = 1): SQSRecord {
  sequence += 1;
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  // SQS stamps a message when it receives it: the simulated now, after the event's time.
  const sent = String(clock);
  return {
    messageId: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    receiptHandle: `receipt-${sequence}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: sent,
      SenderId: 'AIDAEVENTBRIDGE',
      ApproximateFirstReceiveTimestamp: sent,
      SequenceNumber: `1887${String(sequence).padStart(16, '0')}`,
      MessageGroupId: SEED.name,
      MessageDeduplicationId: createHash('sha256').update(body).digest('hex'),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:${MOTO_ACCOUNT}:kubestash-irsa-reconcile.fifo`,
    awsRegion: 'us-east-1',
  };
}

/** The same message delivered again (EventBridge and SQS deliver at least once). */
function redelivered(original: SQSRecord, receiveCount = 2): SQSRecord {
  return {
    ...original,
    receiptHandle: `${original.receiptHandle}-again-${receiveCount}`,
    attributes: { ...original.attributes, ApproximateReceiveCount: String(receiveCount) },
  };
}

let eventId = 0;
/** Simulated time (epoch ms): each event is stamped to the second, as EventBridge does, and moves it on. */
let clock = Date.parse('2026-11-22T12:00:00Z');

function stamp(): string {
  const time = new Date(clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
  clock += 3_000;
  return time;
}

function envelope(detailType: string, detail: object) {
  eventId += 1;
  return {
    version: '0',
    id: `event-${eventId}`,
    'detail-type': detailType,
    source: EVENT_SOURCE,
    account: MOTO_ACCOUNT,
    time: stamp(),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

const saEvent = (name: string, operation: 'create' | 'delete') =>
  envelope(DetailType.serviceAccountChanged, {
    seed: SEED.name,
    cluster: 'prod',
    namespace: 'demo',
    name,
    operation,
  });

const resyncEvent = () => envelope(DetailType.resync, { seed: SEED.name, reason: 'schedule' });

function addServiceAccount(name: string): void {
  h.server.addServiceAccount({
    namespace: 'demo',
    name,
    annotations: { [SEED_ROLE_ANNOTATION]: SEED_ARN },
  });
}

/** IAM writes that reached moto, from position `from` of the handler's log on. */
const writesSince = (aws: FaultyAwsHandler, from: number) =>
  aws.actions
    .slice(from)
    .filter((a) =>
      /^(CreateRole|UpdateAssumeRolePolicy|AttachRolePolicy|DetachRolePolicy|DeleteRole|TagRole|UntagRole)$/.test(
        a,
      ),
    );

/** Subject → the derived roles whose trust policy names it. */
async function trustedBy(iam: IamAdapter): Promise<Map<string, string[]>> {
  const subjects = new Map<string, string[]>();
  for (const role of await iam.listRolesUnderPath(PATH)) {
    for (const list of parseTrustPolicy(role.trustPolicy).grants.values()) {
      for (const subject of list)
        subjects.set(subject, [...(subjects.get(subject) ?? []), role.arn]);
    }
  }
  return subjects;
}

function roleArnOf(name: string): string | undefined {
  const object = h.server.serviceAccount('demo', name) as
    { metadata: { annotations?: Record<string, string> } } | undefined;
  return object?.metadata.annotations?.[ROLE_ARN_ANNOTATION];
}

function patchesOf(name: string): number {
  return h.server.requests.filter(
    (r) =>
      r.method === 'PATCH' &&
      r.path === `/api/v1/namespaces/demo/serviceaccounts/${name}` &&
      r.status === 200,
  ).length;
}

/**
 * The final state: exactly the `granted` ServiceAccounts are trusted, each by
 * one role, the one its annotation names; `gone` are trusted by none.
 */
async function expectGranted(
  iam: IamAdapter,
  granted: readonly string[],
  gone: readonly string[] = [],
): Promise<void> {
  const subjects = await trustedBy(iam);
  for (const name of granted) {
    const holders = subjects.get(serviceAccountSubject('demo', name));
    expect({ name, holders }).toEqual({ name, holders: [roleArnOf(name)] });
  }
  for (const name of gone) {
    expect({ name, holders: subjects.get(serviceAccountSubject('demo', name)) }).toEqual({
      name,
      holders: undefined,
    });
  }
  expect([...subjects.keys()].sort()).toEqual(
    granted.map((n) => serviceAccountSubject('demo', n)).sort(),
  );
}

describe('the reconcile handler with duplicate and reordered events', () => {
  test('the same event twice in one batch costs one pass; delivered again in a later batch it costs no pass', async () => {
    for (const name of ['sa-a', 'sa-b', 'sa-c']) addServiceAccount(name);
    const { handle, aws, iam, passes } = lambda();
    const first = record(saEvent('sa-a', 'create'));
    const batch = [first, redelivered(first), record(saEvent('sa-b', 'create'))];

    expect(await handle({ Records: batch })).toEqual({ batchItemFailures: [] });
    expect(passes()).toBe(1);
    // One role, written once, for three ServiceAccounts (sa-c had no event: it was waiting).
    expect(writesSince(aws, 0)).toEqual(['CreateRole', 'AttachRolePolicy']);
    await expectGranted(iam, ['sa-a', 'sa-b', 'sa-c']);

    const seen = aws.actions.length;
    const requests = h.server.requests.length;
    expect(await handle({ Records: [redelivered(first, 3)] })).toEqual({ batchItemFailures: [] });
    // The completed pass started after the event was published, so it answered it already.
    expect(passes()).toBe(1);
    expect(writesSince(aws, seen)).toEqual([]);
    expect(h.server.requests.slice(requests).filter((r) => r.method !== 'GET')).toEqual([]);
    for (const name of ['sa-a', 'sa-b', 'sa-c']) expect(patchesOf(name)).toBe(1);
    await expectGranted(iam, ['sa-a', 'sa-b', 'sa-c']);
  });

  test('a "deleted" event that overtakes a late "created" one: the subject is removed, and the late event does not bring it back', async () => {
    for (const name of ['sa-keep', 'sa-gone']) addServiceAccount(name);
    const { handle, aws, iam } = lambda();
    await handle({ Records: [record(saEvent('sa-keep', 'create'))] });
    await expectGranted(iam, ['sa-keep', 'sa-gone']);

    // sa-gone is deleted; its "deleted" event comes first, a duplicate of its "created" one after.
    h.server.deleteServiceAccount('demo', 'sa-gone');
    const beforeDelete = aws.actions.length;
    await handle({ Records: [record(saEvent('sa-gone', 'delete'))] });
    expect(writesSince(aws, beforeDelete)).toEqual(['UpdateAssumeRolePolicy']);
    await expectGranted(iam, ['sa-keep'], ['sa-gone']);

    const beforeLate = aws.actions.length;
    const out = await handle({ Records: [record(saEvent('sa-gone', 'create'))] });
    expect(out).toEqual({ batchItemFailures: [] });
    expect(writesSince(aws, beforeLate)).toEqual([]);
    await expectGranted(iam, ['sa-keep'], ['sa-gone']);
    expect(h.server.events).toEqual([]);
  });

  test('"deleted" and "created" of a ServiceAccount never seen arrive reversed in one batch: nothing is granted, nothing fails', async () => {
    addServiceAccount('sa-other');
    const { handle, aws, iam } = lambda();
    // sa-brief was created and deleted before the reconciler looked.
    const out = await handle({
      Records: [record(saEvent('sa-brief', 'delete')), record(saEvent('sa-brief', 'create'))],
    });
    expect(out).toEqual({ batchItemFailures: [] });
    await expectGranted(iam, ['sa-other'], ['sa-brief']);
    expect(writesSince(aws, 0)).toEqual(['CreateRole', 'AttachRolePolicy']);
  });

  test('a stale "deleted" event for a ServiceAccount re-created under the same name revokes nothing', async () => {
    addServiceAccount('sa-x');
    const { handle, aws, iam } = lambda();
    await handle({ Records: [record(saEvent('sa-x', 'create'))] });
    const granted = roleArnOf('sa-x');
    expect(granted).toMatch(/:role\/kubestash-irsa\/KubestashRole-0$/);

    // Deleted and re-created: a new object (new uid) without the role annotation.
    h.server.deleteServiceAccount('demo', 'sa-x');
    addServiceAccount('sa-x');
    const before = aws.actions.length;
    await handle({ Records: [record(saEvent('sa-x', 'create'))] });
    // Its subject never left the role, so only the annotation is written.
    expect(writesSince(aws, before)).toEqual([]);
    expect(roleArnOf('sa-x')).toBe(granted);

    const afterCreate = aws.actions.length;
    const patches = patchesOf('sa-x');
    await handle({ Records: [record(saEvent('sa-x', 'delete'))] });
    expect(writesSince(aws, afterCreate)).toEqual([]);
    expect(patchesOf('sa-x')).toBe(patches);
    expect(roleArnOf('sa-x')).toBe(granted);
    await expectGranted(iam, ['sa-x']);
  });

  test('a resync that arrives before the ServiceAccount events grants them; the events then write nothing', async () => {
    for (const name of ['sa-1', 'sa-2']) addServiceAccount(name);
    const { handle, aws, iam } = lambda();
    await handle({ Records: [record(resyncEvent())] });
    expect(writesSince(aws, 0)).toEqual(['CreateRole', 'AttachRolePolicy']);
    await expectGranted(iam, ['sa-1', 'sa-2']);

    const before = aws.actions.length;
    const requests = h.server.requests.length;
    const out = await handle({
      Records: [record(saEvent('sa-1', 'create')), record(saEvent('sa-2', 'create'))],
    });
    expect(out).toEqual({ batchItemFailures: [] });
    expect(writesSince(aws, before)).toEqual([]);
    expect(h.server.requests.slice(requests).filter((r) => r.method === 'PATCH')).toEqual([]);
    await expectGranted(iam, ['sa-1', 'sa-2']);
  });

  test('a batch whose pass fails half-way is returned whole; its redelivery converges and grants nothing twice', async () => {
    for (const name of ['sa-p', 'sa-q', 'sa-r']) addServiceAccount(name);
    const { handle, aws, iam } = lambda();
    const batch = [
      record(saEvent('sa-p', 'create')),
      record(resyncEvent()),
      record(saEvent('sa-q', 'create')),
    ];
    // The role is created, then the pass dies before its policy or any annotation.
    aws.crashAfter('CreateRole');
    const out = await handle({ Records: batch });
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(
      batch.map((r) => r.messageId),
    );
    expect(['sa-p', 'sa-q', 'sa-r'].map(roleArnOf)).toEqual([undefined, undefined, undefined]);

    const again = await handle({ Records: batch.map((r) => redelivered(r)) });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(await iam.listRolesUnderPath(PATH)).toHaveLength(1);
    expect(await iam.listAttachedPolicyArns('KubestashRole-0')).toHaveLength(1);
    await expectGranted(iam, ['sa-p', 'sa-q', 'sa-r']);
    for (const name of ['sa-p', 'sa-q', 'sa-r']) expect(patchesOf(name)).toBe(1);
  });
});

describe('the reconcile handler metrics', () => {
  interface EmfLine {
    readonly _aws: {
      readonly CloudWatchMetrics: readonly {
        readonly Namespace: string;
        readonly Dimensions: readonly (readonly string[])[];
        readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
      }[];
    };
    readonly [key: string]: unknown;
  }

  function emfLines(): EmfLine[] {
    return stdout
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as unknown)
      .filter(
        (json): json is EmfLine => typeof json === 'object' && json !== null && '_aws' in json,
      );
  }

  test('every metric of a reconciled seed carries the Seed dimension, with the seed and true values', async () => {
    for (const name of ['sa-m1', 'sa-m2', 'sa-m3']) addServiceAccount(name);
    const { handle } = lambda();
    await handle({
      Records: [record(saEvent('sa-m1', 'create')), record('not an event')],
    });

    const lines = emfLines();
    const values = new Map<string, unknown>();
    for (const line of lines) {
      for (const directive of line._aws.CloudWatchMetrics) {
        expect(directive.Namespace).toBe('KubestashIrsa');
        for (const metric of directive.Metrics) {
          if (metric.Name === 'MalformedEvents') {
            // A message that names no seed cannot be put under one.
            expect(line.Seed).toBeUndefined();
            continue;
          }
          expect({ metric: metric.Name, dimensions: directive.Dimensions }).toEqual({
            metric: metric.Name,
            dimensions: [expect.arrayContaining(['Seed'])],
          });
          expect(line.Seed).toBe(SEED.name);
          values.set(metric.Name, line[metric.Name]);
        }
      }
    }
    expect(Object.fromEntries(values)).toEqual({
      DerivedRoleUtilization: 1,
      DerivedRoles: 1,
      // Three subjects in KubestashRole-0: a fifth of the 2048-character quota.
      TrustPolicyFill: expect.any(Number),
      ServiceAccountsGranted: 3,
      Refusals: 0,
      // One line per reason; the last one read (none refused, so 0).
      RefusedServiceAccounts: 0,
      IamWrites: 1,
      ReconcileDuration: expect.any(Number),
    });
    expect(values.get('TrustPolicyFill')).toBeGreaterThan(10);
    expect(values.get('TrustPolicyFill')).toBeLessThan(40);
    expect(lines.some((l) => l.MalformedEvents === 1)).toBe(true);
  });
});
