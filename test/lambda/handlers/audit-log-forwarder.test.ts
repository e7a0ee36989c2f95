import { gzipSync } from 'node:zlib';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { EventBridgePublisher } from '../../../lambda/adapters/eventbridge/event-bridge-publisher';
import { createAuditLogForwarder } from '../../../lambda/handlers/audit-log-forwarder';
import { MOTO_CLIENT_CONFIG, startMotoServer } from '../../support/moto-server';
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

test('audit log lines reach the seed’s FIFO message group through the bus', async () => {
  const events = new EventBridgeClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
  const sqs = new SQSClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
  await events.send(new CreateEventBusCommand({ Name: 'kubestash-irsa' }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'reconcile.fifo',
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
    }),
  );
  const queueUrl = queue.QueueUrl ?? '';
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  await events.send(
    new PutRuleCommand({
      Name: 'seed-KubestashRole',
      EventBusName: 'kubestash-irsa',
      EventPattern: JSON.stringify({
        source: ['kubestash-irsa'],
        detail: { seed: ['KubestashRole'] },
      }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'seed-KubestashRole',
      EventBusName: 'kubestash-irsa',
      Targets: [
        {
          Id: 'queue',
          Arn: attributes.Attributes?.QueueArn,
          SqsParameters: { MessageGroupId: 'KubestashRole' },
        },
      ],
    }),
  );

  const forward = createAuditLogForwarder({
    publisher: new EventBridgePublisher(events, { eventBusName: 'kubestash-irsa' }),
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

  const received: { group?: string; detail: { name: string; seed: string } }[] = [];
  for (let i = 0; i < 5 && received.length < 12; i++) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['MessageGroupId'],
      }),
    );
    for (const m of out.Messages ?? []) {
      received.push({
        group: m.Attributes?.MessageGroupId,
        detail: JSON.parse(m.Body ?? '{}').detail,
      });
      // A FIFO group hands out nothing more while earlier messages are in flight.
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }),
      );
    }
  }
  expect(received.map((r) => r.detail.name).sort()).toEqual(
    Array.from({ length: 12 }, (_, i) => `backup-${i}`).sort(),
  );
  expect(new Set(received.map((r) => r.group))).toEqual(new Set(['KubestashRole']));
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
