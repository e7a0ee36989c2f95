import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createReconcileHandler } from '../../../lambda/handlers/reconcile';
import type { ReconcileOptions, ReconcileResult } from '../../../lambda/reconciler/reconcile-seed';
import type { SeedEnv } from '../../../lambda/reconciler/reconciler-settings';

const cluster = { name: 'prod', issuer: 'i', providerArn: 'arn:aws:iam::1:oidc-provider/i' };
const env = {
  RECONCILER_SEEDS: [
    { name: 'KubestashRole', clusters: [cluster], conditionOperator: 'StringLike' as const },
    { name: 'VeleroRole', clusters: [cluster], conditionOperator: 'StringLike' as const },
  ],
  EMPTY_ROLE_GRACE_SECONDS: 600,
};

function record(id: string, body: unknown): SQSRecord {
  return {
    messageId: id,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  } as SQSRecord;
}

const changed = (seed: string, name = 'x') => ({
  source: 'kubestash-irsa',
  'detail-type': 'ServiceAccount Changed',
  detail: { seed, cluster: 'prod', namespace: 'demo', name, operation: 'create' },
});

const result = (): ReconcileResult => ({
  plan: {
    quota: 2048,
    creates: [],
    updates: [],
    deletes: [],
    assignments: [],
    refusals: [],
    roles: [],
    notes: [],
  },
  created: 0,
  updated: 0,
  deleted: 0,
  annotated: 0,
  events: 0,
  derivedRoles: 3,
  roleCreationLimit: 100,
  warnings: [],
});

function handler(fail: (seed: string) => boolean = () => false) {
  const calls: { seed: string; options: ReconcileOptions }[] = [];
  const logged: string[] = [];
  const logger = new Logger({ logLevel: 'SILENT' });
  logger.error = ((message: string) => logged.push(message)) as Logger['error'];
  const h = createReconcileHandler({
    env,
    reconcile: async (seed: SeedEnv, options) => {
      calls.push({ seed: seed.name, options });
      if (fail(seed.name)) throw new Error('IAM unavailable');
      return result();
    },
    logger,
    metrics: new Metrics({ namespace: 'Test', serviceName: 'reconciler' }),
  });
  return { h, calls, logged };
}

describe('reconcile handler', () => {
  test('reconciles each seed once per batch, however many of its events the batch holds', async () => {
    const { h, calls } = handler();
    const event: SQSEvent = {
      Records: [
        record('1', changed('KubestashRole', 'a')),
        record('2', changed('KubestashRole', 'b')),
        record('3', changed('VeleroRole')),
        record('4', changed('KubestashRole', 'c')),
      ],
    };
    expect(await h(event)).toEqual({ batchItemFailures: [] });
    expect(calls.map((c) => c.seed)).toEqual(['KubestashRole', 'VeleroRole']);
    expect(calls[0].options).toEqual({
      emptyRoleGracePeriodSeconds: 600,
      otherSeeds: ['VeleroRole'],
      reportUnknownSeeds: true,
    });
    expect(calls[1].options.reportUnknownSeeds).toBe(false);
  });

  test('a failure returns that message and every later one (FIFO), and stops working', async () => {
    const { h, calls } = handler((seed) => seed === 'VeleroRole');
    const out = await h({
      Records: [
        record('1', changed('KubestashRole')),
        record('2', changed('VeleroRole')),
        record('3', changed('KubestashRole')),
        record('4', changed('VeleroRole')),
      ],
    });
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['2', '3', '4']);
    expect(calls.map((c) => c.seed)).toEqual(['KubestashRole', 'VeleroRole']);
  });

  const malformed: [string, unknown][] = [
    ['not JSON', 'not json'],
    ['empty body', ''],
    ['JSON null', 'null'],
    ['an array', '[]'],
    ['another source', { ...changed('KubestashRole'), source: 'aws.s3' }],
    ['unknown detail-type', { ...changed('KubestashRole'), 'detail-type': 'Something Else' }],
    ['no detail', { source: 'kubestash-irsa', 'detail-type': 'ServiceAccount Changed' }],
    [
      'detail without seed',
      {
        ...changed('KubestashRole'),
        detail: { cluster: 'prod', namespace: 'demo', name: 'x', operation: 'create' },
      },
    ],
    ['a seed that is not configured', changed('SomeoneElse')],
    [
      'an unknown operation',
      {
        ...changed('KubestashRole'),
        detail: { ...changed('KubestashRole').detail, operation: 'explode' },
      },
    ],
    [
      'an extra field in detail',
      { ...changed('KubestashRole'), detail: { ...changed('KubestashRole').detail, extra: true } },
    ],
    [
      'a 300-character name',
      {
        ...changed('KubestashRole'),
        detail: { ...changed('KubestashRole').detail, name: 'n'.repeat(300) },
      },
    ],
  ];

  test.each(malformed)(
    'drops a message with %s, logs it, and goes on (no crash loop)',
    async (_why, body) => {
      const { h, calls, logged } = handler();
      const out = await h({
        Records: [record('bad', body), record('good', changed('KubestashRole'))],
      });
      expect(out.batchItemFailures).toEqual([]);
      expect(logged).toEqual(['dropping a message that names no configured seed']);
      expect(calls.map((c) => c.seed)).toEqual(['KubestashRole']);
    },
  );

  test('a scheduled resync is understood', async () => {
    const { h, calls } = handler();
    await h({
      Records: [
        record('r', {
          source: 'kubestash-irsa',
          'detail-type': 'Resync Requested',
          time: '2026-11-22T12:00:00Z',
          detail: { seed: 'VeleroRole', reason: 'schedule' },
        }),
      ],
    });
    expect(calls.map((c) => c.seed)).toEqual(['VeleroRole']);
  });
});
