import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DetailType, EVENT_SOURCE } from '../lambda/events/reconcile-event';
import { alphanumeric } from './config/project-config';

export interface ReconcileQueueProps {
  /** The seeds, each of which gets its own FIFO message group. */
  readonly seedNames: readonly string[];

  /**
   * How often every seed gets a full resync, whatever events said.
   * @default Duration.minutes(5)
   */
  readonly resyncInterval?: Duration;

  /**
   * How long a message is hidden while the reconciler works on it; AWS advises
   * six times the function timeout.
   */
  readonly visibilityTimeout: Duration;

  /**
   * How often a message may fail before it goes to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
}

/**
 * The bus → FIFO queue part of the reconciler. The queue has one message group
 * per seed, so writes for one seed are serialized while seeds proceed in
 * parallel. Each rule's input transformer keeps only the seed, the kind and
 * the second of an event ({@link queuedMessage}), so content-based
 * deduplication keeps one message per seed, kind and second: a flood costs a
 * few messages. Each seed also gets a scheduled resync.
 */
export class ReconcileQueue extends Construct {
  readonly eventBus: events.EventBus;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ReconcileQueueProps) {
    super(scope, id);
    if (props.seedNames.length === 0)
      throw new Error('ReconcileQueue: give at least one seed name');
    const resync = props.resyncInterval ?? Duration.minutes(5);
    if (resync.toSeconds() < 60) {
      throw new Error(
        `ReconcileQueue: resyncInterval ${resync.toHumanString()} is below EventBridge's 1-minute minimum`,
      );
    }

    this.eventBus = new events.EventBus(this, 'Bus', {
      description:
        'kubestash-irsa: where to look (ServiceAccount changes, gated Jobs, resync requests)',
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      fifo: true,
      contentBasedDeduplication: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });

    for (const seed of props.seedNames) {
      const id = alphanumeric(seed);
      // One rule per seed and kind, each writing only what the reconciler reads: the body is
      // the same for every event of that kind and second, so content-based deduplication keeps
      // one message per second (SQS FIFO drops a body it saw within 5 minutes:
      // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/using-messagededuplicationid-property.html).
      // A flood of hints is then a few messages, not one per hint. The kind is a constant per
      // rule rather than an `<detail-type>` placeholder so the template fills in no string.
      for (const kind of Object.values(DetailType)) {
        new events.Rule(this, `Route${id}${alphanumeric(kind)}`, {
          eventBus: this.eventBus,
          description: `kubestash-irsa: ${kind} events for seed ${seed} to its FIFO message group, one message per second`,
          eventPattern: { source: [EVENT_SOURCE], detailType: [kind], detail: { seed: [seed] } },
          targets: [
            new targets.SqsQueue(this.queue, {
              messageGroupId: seed,
              message: queuedMessage(seed, kind),
            }),
          ],
        });
      }
      new events.Rule(this, `Resync${id}`, {
        description: `kubestash-irsa: full resync of seed ${seed} every ${resync.toHumanString()}`,
        schedule: events.Schedule.rate(resync),
        targets: [
          new targets.SqsQueue(this.queue, {
            messageGroupId: seed,
            // The event time makes each tick's body unique, so deduplication keeps every tick; the
            // reason makes it a body no routed event can have, so no caller of PutEvents on the
            // bus can pre-send a tick's body and get it dropped: the resync stays the backstop.
            message: queuedMessage(seed, DetailType.resync, { reason: 'schedule' }),
          }),
        ],
      });
    }
  }
}

/**
 * The SQS body of an event of `kind` for `seed`: `{source, detail-type, time,
 * detail: {seed}}`, with EventBridge's `time` (to the second) as the only
 * field taken from the event. What the reconcile handler reads
 * (`queuedEventSchema` in lambda/events/reconcile-event.ts); everything else
 * an event says the reconciler re-reads from Kubernetes and IAM anyway.
 * `extra` adds constant fields to `detail` (the scheduled resync's reason).
 */
export function queuedMessage(
  seed: string,
  kind: string,
  extra: Readonly<Record<string, string>> = {},
): events.RuleTargetInput {
  return events.RuleTargetInput.fromObject({
    source: EVENT_SOURCE,
    'detail-type': kind,
    time: events.EventField.time,
    detail: { seed, ...extra },
  });
}
