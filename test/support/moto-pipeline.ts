import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ReconcileQueue } from '../../lib/reconcile-queue';
import { newApp } from './example-app';
import { MOTO_CLIENT_CONFIG } from './moto-server';

export const PIPELINE_BUS = 'kubestash-irsa';

/**
 * The stack's event pipeline rebuilt on moto: the bus, and the routing rules
 * of the stack's own ReconcileQueue (patterns, message groups and input
 * transformers copied from its synthesized template) into a FIFO queue with
 * content-based deduplication, so events published by the gate or the audit
 * forwarder reach the reconcile handler the way they do in AWS. Not modelled:
 * moto deduplicates only against messages still in the queue, where SQS
 * remembers a body for 5 minutes after it was sent; the scheduled resyncs.
 */
export class MotoPipeline {
  readonly events: EventBridgeClient;
  readonly sqs: SQSClient;

  private constructor(
    endpoint: string,
    readonly queueUrl: string,
  ) {
    this.events = new EventBridgeClient({ ...MOTO_CLIENT_CONFIG, endpoint });
    this.sqs = new SQSClient({ ...MOTO_CLIENT_CONFIG, endpoint });
  }

  /** The queue of a pipeline {@link create} made on the moto at `endpoint`, with clients of its own (another thread's). */
  static attach(endpoint: string, queueUrl: string): MotoPipeline {
    return new MotoPipeline(endpoint, queueUrl);
  }

  static async create(endpoint: string, seeds: readonly string[]): Promise<MotoPipeline> {
    const events = new EventBridgeClient({ ...MOTO_CLIENT_CONFIG, endpoint });
    const sqs = new SQSClient({ ...MOTO_CLIENT_CONFIG, endpoint });
    await events.send(new CreateEventBusCommand({ Name: PIPELINE_BUS }));
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
    for (const [name, rule] of routingRules(seeds)) {
      await events.send(
        new PutRuleCommand({
          Name: name,
          EventBusName: PIPELINE_BUS,
          EventPattern: JSON.stringify(rule.EventPattern),
        }),
      );
      await events.send(
        new PutTargetsCommand({
          Rule: name,
          EventBusName: PIPELINE_BUS,
          Targets: rule.Targets.map((t) => ({
            Id: t.Id,
            Arn: attributes.Attributes?.QueueArn,
            SqsParameters: t.SqsParameters,
            InputTransformer: t.InputTransformer,
          })),
        }),
      );
    }
    return new MotoPipeline(endpoint, queueUrl);
  }

  /** Up to ten messages, deleted once read (a FIFO group hands out nothing more while some are in flight). */
  async receive(waitSeconds = 0): Promise<Message[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['MessageGroupId', 'SentTimestamp'],
      }),
    );
    const messages = out.Messages ?? [];
    // One call per batch, as the Lambda event source deletes what a batch consumed.
    if (messages.length > 0) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    return messages;
  }
}

interface CfnRoutingRule {
  readonly EventPattern: unknown;
  readonly Targets: readonly {
    readonly Id: string;
    readonly SqsParameters: { readonly MessageGroupId: string };
    readonly InputTransformer?: {
      readonly InputPathsMap: Record<string, string>;
      readonly InputTemplate: string;
    };
  }[];
}

/** The event-pattern rules of a ReconcileQueue for `seeds`, by logical id, as CloudFormation gets them. */
function routingRules(seeds: readonly string[]): [string, CfnRoutingRule][] {
  const stack = new Stack(newApp(), 'Pipeline');
  new ReconcileQueue(stack, 'Events', { seedNames: seeds, visibilityTimeout: Duration.minutes(6) });
  const rules = Template.fromStack(stack).findResources('AWS::Events::Rule', {
    Properties: { EventPattern: {} },
  });
  return Object.entries(rules).map(([id, r]) => [id, r.Properties as CfnRoutingRule]);
}

/** An SQS message as the Lambda event source hands it to the reconcile handler. */
export function asSqsRecord(message: Message): SQSRecord {
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      MessageGroupId: message.Attributes?.MessageGroupId ?? '',
      ...(message.Attributes?.SentTimestamp === undefined
        ? {}
        : { SentTimestamp: message.Attributes.SentTimestamp }),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:reconcile.fifo',
    awsRegion: 'us-east-1',
  } as SQSRecord;
}
