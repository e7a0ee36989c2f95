import { gzipSync } from 'node:zlib';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { EventBridgePublisher } from '../../../lambda/adapters/eventbridge/event-bridge-publisher';
import { createAuditLogForwarder } from '../../../lambda/handlers/audit-log-forwarder';
import { MotoPipeline, PIPELINE_BUS } from '../../support/moto-pipeline';
import { startMotoServer } from '../../support/moto-server';
import type { MotoServer } from '../../support/moto-server';

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMotoServer();
});
afterAll(async () => {
  await moto.stop();
});

function logsEvent(messages: unknown[]): CloudWatchLogsEvent {
  const body = {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/eks/prod-cluster/cluster',
    logStream: 'kube-apiserver-audit-1',
    subscriptionFilters: ['f'],
    logEvents: messages.map((m, i) => ({
      id: String(i),
      timestamp: i,
      message: JSON.stringify(m),
    })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(body))).toString('base64') } };
}

function created(name: string, seed = 'KubestashRole') {
  return {
    kind: 'Event',
    stage: 'ResponseComplete',
    verb: 'create',
    objectRef: { resource: 'serviceaccounts', namespace: 'demo', name },
    responseStatus: { code: 201 },
    requestObject: {
      metadata: {
        name,
        namespace: 'demo',
        annotations: { 'go.klusters.dev/seed-role-name': `arn:aws:iam::123456789012:role/${seed}` },
      },
    },
  };
}

test('audit log lines reach the seed’s FIFO message group through the bus, one message per second they span; a seed no rule routes reaches nothing', async () => {
  const pipeline = await MotoPipeline.create(moto.endpoint, ['KubestashRole']);

  const forward = createAuditLogForwarder({
    publisher: new EventBridgePublisher(pipeline.events, { eventBusName: PIPELINE_BUS }),
    seeds: ['KubestashRole'],
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
  });
  // 12 changes: more than one PutEvents call holds; one names a seed no rule routes.
  await forward(
    logsEvent([
      ...Array.from({ length: 12 }, (_, i) => created(`backup-${i}`)),
      created('x', 'Unknown'),
    ]),
  );

  const received: { group?: string; body: Record<string, unknown> }[] = [];
  for (let i = 0; i < 5; i++) {
    for (const m of await pipeline.receive()) {
      received.push({ group: m.Attributes?.MessageGroupId, body: JSON.parse(m.Body ?? '{}') });
    }
  }
  // The rule keeps only the seed, the kind and the second (lib/reconcile-queue.ts), and the FIFO
  // queue keeps one message per body: the 12 changes are one message per second they spanned.
  const seconds = new Set(received.map((r) => r.body.time));
  expect(received.length).toBe(seconds.size);
  expect(received.length).toBeGreaterThanOrEqual(1);
  expect(received.length).toBeLessThanOrEqual(2);
  for (const r of received) {
    expect(r.group).toBe('KubestashRole');
    expect(r.body).toEqual({
      source: 'kubestash-irsa',
      'detail-type': 'ServiceAccount Changed',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      detail: { seed: 'KubestashRole' },
    });
  }
});

test('entries EventBridge refuses are retried, then reported', async () => {
  let calls = 0;
  const flaky = {
    send: async (command: { input: { Entries: unknown[] } }) => {
      calls += 1;
      const n = command.input.Entries.length;
      return {
        FailedEntryCount: 1,
        Entries: Array.from({ length: n }, (_, i) =>
          i === 0 ? { ErrorCode: 'ThrottlingException' } : { EventId: 'e' },
        ),
      };
    },
  } as unknown as EventBridgeClient;
  const publisher = new EventBridgePublisher(flaky, {
    eventBusName: 'b',
    maxRetries: 2,
    sleep: async () => {},
  });
  await expect(
    publisher.publish([
      { Source: 's', DetailType: 'd', Detail: '{}' },
      { Source: 's', DetailType: 'd', Detail: '{}' },
    ]),
  ).rejects.toThrow(/refused 1 of 2 events after 3 attempts \(ThrottlingException\)/);
  expect(calls).toBe(3);
});
