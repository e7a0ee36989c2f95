import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EventBridgePublisher } from '../../lambda/adapters/eventbridge/event-bridge-publisher';
import { DetailType, EVENT_SOURCE } from '../../lambda/events/reconcile-event';
import { ReconcileQueue } from '../../lib/reconcile-queue';
import { MotoPipeline, PIPELINE_BUS } from '../support/moto-pipeline';
import { motoForEachTest } from '../support/moto-for-jest';
import { newApp } from '../support/example-app';

function build(props: Partial<ConstructorParameters<typeof ReconcileQueue>[2]> = {}) {
  const stack = new Stack(newApp(), 'T', { env: { account: '111122223333', region: 'us-east-1' } });
  new ReconcileQueue(stack, 'Q', {
    seedNames: ['KubestashRole', 'VeleroRole'],
    visibilityTimeout: Duration.minutes(6),
    ...props,
  });
  return Template.fromStack(stack);
}

describe('ReconcileQueue', () => {
  test('a FIFO queue with content-based deduplication, encrypted, TLS-only, with a FIFO dead-letter queue', () => {
    const t = build();
    t.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: true,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      MessageRetentionPeriod: 1209600,
    });
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('each seed and kind routes to the seed’s message group, with a body of only the kind, the second and the seed, so deduplication keeps one message per second', () => {
    const t = build();
    for (const seed of ['KubestashRole', 'VeleroRole']) {
      for (const kind of ['ServiceAccount Changed', 'Job Gated', 'Resync Requested']) {
        t.hasResourceProperties('AWS::Events::Rule', {
          EventBusName: Match.anyValue(),
          EventPattern: {
            source: ['kubestash-irsa'],
            'detail-type': [kind],
            detail: { seed: [seed] },
          },
          Targets: [
            Match.objectLike({
              SqsParameters: { MessageGroupId: seed },
              InputTransformer: {
                InputPathsMap: { time: '$.time' },
                InputTemplate: JSON.stringify({
                  source: 'kubestash-irsa',
                  'detail-type': kind,
                  time: '__TIME__',
                  detail: { seed },
                }).replace('"__TIME__"', '<time>'),
              },
            }),
          ],
        });
      }
    }
    // Three routes and one schedule per seed; no rule passes a whole event through.
    t.resourceCountIs('AWS::Events::Rule', 8);
    for (const rule of Object.values(t.findResources('AWS::Events::Rule'))) {
      expect(rule.Properties.Targets[0].InputTransformer).toBeDefined();
    }
  });

  test('each seed gets a scheduled resync in its group, with a unique body per tick', () => {
    const t = build({ resyncInterval: Duration.minutes(10) });
    const schedules = t.findResources('AWS::Events::Rule', {
      Properties: { ScheduleExpression: 'rate(10 minutes)' },
    });
    expect(Object.keys(schedules)).toHaveLength(2);
    const target = Object.values(schedules)[0].Properties.Targets[0];
    expect(target.SqsParameters.MessageGroupId).toBe('KubestashRole');
    expect(target.InputTransformer.InputPathsMap).toEqual({ time: '$.time' });
    expect(target.InputTransformer.InputTemplate).toContain('"time":<time>');
    expect(target.InputTransformer.InputTemplate).toContain('"detail-type":"Resync Requested"');
    // A body no routed event has: a forged Resync Requested on the bus cannot get a tick dropped.
    expect(target.InputTransformer.InputTemplate).toContain('"reason":"schedule"');
  });

  test('EventBridge may send to the queue only from the project’s rules', () => {
    const t = build();
    const policy = Object.values(t.findResources('AWS::SQS::QueuePolicy'))
      .map((p) => p.Properties.PolicyDocument.Statement)
      .flat()
      .filter(
        (s: { Principal?: { Service?: string } }) =>
          s.Principal?.Service === 'events.amazonaws.com',
      );
    expect(policy.length).toBeGreaterThan(0);
    for (const s of policy) expect(s.Condition.ArnEquals['aws:SourceArn']).toBeDefined();
  });

  test('refuses a resync faster than EventBridge allows, and no seeds', () => {
    expect(() => build({ resyncInterval: Duration.seconds(30) })).toThrow(/1-minute minimum/);
    expect(() => build({ seedNames: [] })).toThrow(/at least one seed/);
  });
});

describe('ReconcileQueue’s rules on moto (copied from the synthesized template by MotoPipeline)', () => {
  const moto = motoForEachTest();

  test('a burst of hints and changes for two seeds: one message per seed, kind and second, in the seed’s group, with only the kind, the second and the seed', async () => {
    const pipeline = await MotoPipeline.create(moto.endpoint, ['KubestashRole', 'VeleroRole']);
    const publisher = new EventBridgePublisher(pipeline.events, { eventBusName: PIPELINE_BUS });
    const event = (seed: string, kind: string, i: number) => ({
      Source: EVENT_SOURCE,
      DetailType: kind,
      Detail: JSON.stringify(
        kind === DetailType.jobGated
          ? { seed, cluster: 'prod', namespace: 'demo', job: `job-${i}`, serviceAccount: `sa-${i}` }
          : { seed, cluster: 'prod', namespace: 'demo', name: `sa-${i}`, operation: 'create' },
      ),
    });
    // Stamped by the caller so the burst falls in one second, as moto stamps no faster than that.
    const time = new Date(Math.floor(Date.now() / 1_000) * 1_000);
    const entries = [
      ...Array.from({ length: 30 }, (_, i) => event('KubestashRole', DetailType.jobGated, i)),
      ...Array.from({ length: 5 }, (_, i) =>
        event('KubestashRole', DetailType.serviceAccountChanged, i),
      ),
      ...Array.from({ length: 10 }, (_, i) => event('VeleroRole', DetailType.jobGated, i)),
    ].map((e) => ({ ...e, Time: time }));
    for (let i = 0; i < entries.length; i += 10) await publisher.publish(entries.slice(i, i + 10));

    const received: { group?: string; body: unknown }[] = [];
    for (let i = 0; i < 5; i++) {
      for (const m of await pipeline.receive()) {
        received.push({ group: m.Attributes?.MessageGroupId, body: JSON.parse(m.Body ?? '{}') });
      }
    }
    const second = time.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const message = (seed: string, kind: string) => ({
      group: seed,
      body: { source: EVENT_SOURCE, 'detail-type': kind, time: second, detail: { seed } },
    });
    expect(received).toHaveLength(3);
    expect(received).toEqual(
      expect.arrayContaining([
        message('KubestashRole', DetailType.jobGated),
        message('KubestashRole', DetailType.serviceAccountChanged),
        message('VeleroRole', DetailType.jobGated),
      ]),
    );
  });
});
