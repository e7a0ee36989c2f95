import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createReconcileHandler } from '../../../lambda/handlers/reconcile';
import type { ReconcileOptions, ReconcileResult } from '../../../lambda/reconciler/reconcile-seed';
import type { SeedEnv } from '../../../lambda/reconciler/reconciler-settings';
import { ReconcilerMetric } from '../../../lambda/ports/metric-names';
import { quietReconcileResult } from '../../support/reconcile-results';

// The metrics tests read the EMF lines, which test/support/jest-quiet-env.ts turns off for the rest.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

const cluster = { name: 'prod', issuer: 'i', providerArn: 'arn:aws:iam::1:oidc-provider/i' };
const env = {
  RECONCILER_SEEDS: [
    { name: 'KubestashRole', clusters: [cluster], conditionOperator: 'StringLike' as const },
    { name: 'VeleroRole', clusters: [cluster], conditionOperator: 'StringLike' as const },
  ],
  EMPTY_ROLE_GRACE_SECONDS: 600,
  WATCHED_NAMESPACES: ['demo', 'velero'],
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

const result = quietReconcileResult;

function handler(
  fail: (seed: string) => boolean = () => false,
  answer: () => ReconcileResult = result,
) {
  const calls: { seed: string; options: ReconcileOptions }[] = [];
  const logged: string[] = [];
  const details: unknown[] = [];
  const logger = new Logger({ logLevel: 'SILENT' });
  logger.error = ((message: string, extra?: unknown) => {
    logged.push(message);
    details.push(extra);
  }) as Logger['error'];
  const h = createReconcileHandler({
    env,
    reconcile: async (seed: SeedEnv, options) => {
      calls.push({ seed: seed.name, options });
      if (fail(seed.name)) throw new Error('IAM unavailable');
      return answer();
    },
    logger,
    metrics: new Metrics({ namespace: 'Test', serviceName: 'reconciler' }),
  });
  return { h, calls, logged, details };
}

describe('reconcile handler', () => {
  test('an unreachable cluster: one log line naming it and the likely cause, and the message succeeds', async () => {
    const { h, logged, details } = handler(undefined, () => ({
      ...result(),
      unreachableClusters: [
        {
          cluster: 'prod',
          code: 'ECONNECTTIMEOUT',
          likelyCause: 'nothing answered the connection',
          message: 'could not connect',
        },
      ],
    }));
    expect(await h({ Records: [record('1', changed('KubestashRole'))] })).toEqual({
      batchItemFailures: [],
    });
    expect(logged).toEqual(['cluster API server unreachable']);
    expect(details[0]).toMatchObject({
      seed: 'KubestashRole',
      cluster: 'prod',
      code: 'ECONNECTTIMEOUT',
      likelyCause: 'nothing answered the connection',
    });
  });

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
      watchedNamespaces: ['demo', 'velero'],
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

/** The EMF documents Powertools writes to stdout while `run` runs, flattened to one row per metric. */
async function emitted(run: () => Promise<unknown>) {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('_aws'))
    .flatMap((l) => {
      const doc = JSON.parse(l) as Record<string, unknown> & {
        _aws: {
          CloudWatchMetrics: {
            Namespace: string;
            Dimensions: string[][];
            Metrics: { Name: string; Unit: string }[];
          }[];
        };
      };
      const [directive] = doc._aws.CloudWatchMetrics;
      return directive.Metrics.map((m) => ({
        namespace: directive.Namespace,
        name: m.Name,
        unit: m.Unit,
        value: doc[m.Name],
        dimensions: Object.fromEntries(directive.Dimensions[0].map((d) => [d, doc[d]])),
      }));
    });
}

describe('reconcile handler metrics', () => {
  const passResult = (): ReconcileResult => ({
    ...result(),
    plan: {
      ...result().plan,
      roles: [
        {
          seed: 'KubestashRole',
          roleName: 'KubestashRole-0',
          state: 'unchanged',
          subjects: 20,
          size: 2047,
          quota: 2048,
        },
        {
          seed: 'KubestashRole',
          roleName: 'KubestashRole-1',
          state: 'update',
          subjects: 3,
          size: 500,
          quota: 2048,
        },
        {
          seed: 'KubestashRole',
          roleName: 'KubestashRole-2',
          state: 'delete',
          subjects: 0,
          size: 2048,
          quota: 2048,
        },
      ],
    },
    created: 1,
    updated: 2,
    derivedRoles: 2,
    refusedByReason: { DerivedRoleLimitReached: 4, RoleQuotaExceeded: 1 },
    jobs: { released: 2, held: 3, stuck: 1, events: 0, releasedElsewhere: 0 },
  });

  async function metricsOf(r: ReconcileResult) {
    let now = 1000;
    const h = createReconcileHandler({
      env: { ...env, RECONCILER_SEEDS: [env.RECONCILER_SEEDS[0]] },
      reconcile: async () => {
        now += 1234;
        return r;
      },
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'KubestashIrsa', serviceName: 'reconciler' }),
      now: () => now,
      sleep: async () => {},
    });
    return emitted(() => h({ Records: [record('1', changed('KubestashRole'))] }));
  }

  test('each figure the dashboard graphs is emitted per seed under the shared names', async () => {
    const rows = await metricsOf(passResult());
    const byName = (name: string, reason?: string) =>
      rows.filter(
        (m) => m.name === name && (reason === undefined || m.dimensions.Reason === reason),
      );
    for (const m of rows) {
      expect(m.namespace).toBe('KubestashIrsa');
      expect(m.dimensions).toMatchObject({ service: 'reconciler', Seed: 'KubestashRole' });
    }
    expect(byName(ReconcilerMetric.ReconcileDuration)).toEqual([
      expect.objectContaining({ value: 1234, unit: 'Milliseconds' }),
    ]);
    // The fullest role that stays (the one being deleted does not count), rounded down.
    expect(byName(ReconcilerMetric.TrustPolicyFill)).toEqual([
      expect.objectContaining({ value: 99.9, unit: 'Percent' }),
    ]);
    expect(byName(ReconcilerMetric.IamWrites)[0].value).toBe(3);
    expect(byName(ReconcilerMetric.JobsStuck)[0].value).toBe(1);
    expect(byName(ReconcilerMetric.JobsHeld)[0].value).toBe(3);
    expect(byName(ReconcilerMetric.JobsReleased)[0].value).toBe(2);
    // One row per reason, 0 included, so every graph line is continuous.
    const reasons = byName(ReconcilerMetric.RefusedServiceAccounts);
    expect(Object.fromEntries(reasons.map((m) => [m.dimensions.Reason, m.value]))).toEqual({
      NamespaceNotAllowed: 0,
      SeedRoleNotAllowed: 0,
      ClusterNotAllowed: 0,
      DerivedRoleLimitReached: 4,
      SubjectTooLarge: 0,
      RoleQuotaExceeded: 1,
      DerivedRoleNotCreated: 0,
    });
  });

  test('without roles the fill is 0, and without a gate no Job metrics are emitted', async () => {
    const rows = await metricsOf(result());
    expect(rows.find((m) => m.name === ReconcilerMetric.TrustPolicyFill)?.value).toBe(0);
    expect(rows.filter((m) => m.name.startsWith('Jobs'))).toEqual([]);
  });
});

describe('reconcile handler: events coalesce across batches', () => {
  const T0 = Date.parse('2026-11-29T22:00:00Z');
  const stamp = (at: number) => new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  /** A Job Gated message as the rule's input transformer writes it: no Job named (lib/reconcile-queue.ts). */
  const hint = (seed: string, at: number) => ({
    source: 'kubestash-irsa',
    'detail-type': 'Job Gated',
    time: stamp(at),
    detail: { seed },
  });
  const saChanged = (seed: string, at: number) => ({
    source: 'kubestash-irsa',
    'detail-type': 'ServiceAccount Changed',
    time: stamp(at),
    detail: { seed },
  });

  /**
   * A handler on a virtual clock. `held(now)`: the Jobs (keys) the gate holds
   * at that moment; a pass judges those held at its start and lasts 150 ms, a
   * look (the pass's `heldNow`) lasts 20 ms.
   */
  function clocked(held: (now: number) => ReadonlySet<string> = () => new Set()) {
    let now = T0;
    const slept: number[] = [];
    const calls: { seed: string; at: number }[] = [];
    let looks = 0;
    const heldNow = async () => {
      looks++;
      const sent = now;
      now += 20;
      return held(sent);
    };
    const h = createReconcileHandler({
      env,
      reconcile: async (seed: SeedEnv) => {
        calls.push({ seed: seed.name, at: now });
        const marked = held(now);
        now += 150; // a pass takes time
        return { ...result(), gateJobs: { marked, heldNow, complete: true } };
      },
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test', serviceName: 'reconciler' }),
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    });
    return {
      h,
      calls,
      slept,
      looks: () => looks,
      advance: (ms: number) => (now += ms),
      now: () => now,
    };
  }

  const batchOf = (from: number, at = T0 + 100) => ({
    Records: Array.from({ length: 10 }, (_, i) => record(`${from + i}`, hint('KubestashRole', at))),
  });

  test('a flood of hints for Jobs that do not exist (a queue without deduplication delivers all 1,000): one pass, then looks until their second is settled; every later batch is answered', async () => {
    const { h, calls, looks } = clocked();
    for (let b = 0; b < 100; b++) {
      expect((await h(batchOf(b * 10))).batchItemFailures).toEqual([]);
    }
    expect(calls).toEqual([{ seed: 'KubestashRole', at: T0 }]);
    // From T0+150 until the first look at or after T0+2s: one every 120 ms (100 ms apart, 20 ms each).
    expect(looks()).toBe(Math.ceil(1_850 / 120) + 1);
  });

  test('a hint whose Job the first pass releases: one pass and no wait for it; the looks go on until its second is settled; a later copy costs nothing', async () => {
    const { h, calls, advance, looks } = clocked(
      (now) => new Set(now >= T0 ? ['job-0/uid-0'] : []),
    );
    const one = { Records: [record('m-0', hint('KubestashRole', T0))] };
    expect((await h(one)).batchItemFailures).toEqual([]);
    expect(calls).toEqual([{ seed: 'KubestashRole', at: T0 }]);
    const afterFirst = looks();
    expect(afterFirst).toBeGreaterThan(0);
    // Delivered again after the seed is idle again: the looks answered its second.
    advance(10_000);
    expect((await h(one)).batchItemFailures).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(looks()).toBe(afterFirst);
  });

  test('a Job the API server stores after the first pass (within its second) is released by the pass the next look brings, not after a 2 s wait', async () => {
    // job-1 shares job-0's second: the queue kept one message for both.
    const { h, calls } = clocked(
      (now) => new Set(now >= T0 + 300 ? ['job-0/uid-0', 'job-1/uid-1'] : ['job-0/uid-0']),
    );
    expect(
      (await h({ Records: [record('0', hint('KubestashRole', T0))] })).batchItemFailures,
    ).toEqual([]);
    // The pass at T0 ends at +150; looks at +150 and +270 find nothing new, the one at +390 finds job-1.
    expect(calls.map((c) => c.at - T0)).toEqual([0, 410]);
  });

  test('a Job deleted and re-created under its name (a new uid) is a Job no pass judged: it gets a pass', async () => {
    const { h, calls } = clocked(
      (now) => new Set([now >= T0 + 300 ? 'job-0/uid-new' : 'job-0/uid-old']),
    );
    await h({ Records: [record('0', hint('KubestashRole', T0))] });
    expect(calls).toHaveLength(2);
  });

  /** A record as the SQS event source hands it over, with the moment SQS received it. */
  const sentAt = (id: string, body: unknown, sent: number): SQSRecord => ({
    ...record(id, body),
    attributes: { SentTimestamp: String(sent) } as SQSRecord['attributes'],
  });

  test('forged future Times (PutEvents lets its caller set Time), each second distinct so deduplication keeps every one: read as when SQS received them, so 1,000 cost one pass and the looks of their real second', async () => {
    const { h, calls, looks, now } = clocked();
    for (let b = 0; b < 100; b++) {
      const batch = Array.from({ length: 10 }, (_, i) => {
        const n = b * 10 + i;
        return sentAt(`f-${n}`, hint('KubestashRole', T0 + 86_400_000 + n * 1_000), T0 + 200);
      });
      expect((await h({ Records: batch })).batchItemFailures).toEqual([]);
    }
    expect(calls.map((c) => c.at)).toEqual([T0]);
    // The first batch looks until T0's second is settled; the other 99 are answered by that.
    expect(looks()).toBe(Math.ceil(1_850 / 120) + 1);
    expect(now()).toBeLessThan(T0 + 2_200);
  });

  test('a stamp within a second after SQS’s receipt stands (two hosts’ clocks), so a hint is never moved into the second before its own', async () => {
    const { h, now, advance } = clocked();
    advance(1_100); // delivered at T0+1.1 s by the handler's clock
    // Stamped T0+1.0 s by EventBridge, received at T0+0.7 s by SQS's clock: still second T0+1.
    await h({ Records: [sentAt('s-0', hint('KubestashRole', T0 + 1_000), T0 + 700)] });
    // Looked until T0+1 s's second was settled, not T0's.
    expect(now()).toBeGreaterThanOrEqual(T0 + 3_000);
  });

  test('a time after now (clock skew, or no SentTimestamp) is read as now', async () => {
    const { h, calls, now } = clocked();
    const forged = hint('KubestashRole', T0 + 86_400_000);
    expect((await h({ Records: [record('0', forged)] })).batchItemFailures).toEqual([]);
    expect(calls.map((c) => c.at)).toEqual([T0]);
    expect(now()).toBeLessThan(T0 + 2_200);
  });

  test('a redelivered message (the same SQS message id) costs nothing, where its time alone would cost a pass', async () => {
    const { h, calls, advance } = clocked();
    const resync = {
      source: 'kubestash-irsa',
      'detail-type': 'Resync Requested',
      time: stamp(T0),
      detail: { seed: 'KubestashRole' },
    };
    expect((await h({ Records: [record('r-1', resync)] })).batchItemFailures).toEqual([]);
    expect(calls).toHaveLength(1);
    // Back within its second (a visibility timeout ran out): the pass at T0 does not answer T0's
    // second by time, but the message id was remembered.
    advance(100);
    expect((await h({ Records: [record('r-1', resync)] })).batchItemFailures).toEqual([]);
    expect(calls).toHaveLength(1);
    // Another message of that second is not a redelivery: it costs a pass.
    expect((await h({ Records: [record('r-2', resync)] })).batchItemFailures).toEqual([]);
    expect(calls).toHaveLength(2);
  });

  test('a look that fails is logged, and a pass after the wait answers the hint: the message succeeds and the seed’s group moves on', async () => {
    const warned: string[] = [];
    const logger = new Logger({ logLevel: 'SILENT' });
    logger.warn = ((message: string) => {
      warned.push(message);
    }) as Logger['warn'];
    let now = T0;
    const calls: number[] = [];
    const h = createReconcileHandler({
      env,
      reconcile: async () => {
        calls.push(now);
        now += 150;
        return {
          ...result(),
          gateJobs: {
            marked: new Set<string>(),
            heldNow: async () => {
              throw new Error('the API server answered 500 after every retry');
            },
            complete: true,
          },
        };
      },
      logger,
      metrics: new Metrics({ namespace: 'Test', serviceName: 'reconciler' }),
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
    });
    // A first message: its pass leaves the gate's Jobs to look at.
    await h({ Records: [record('0', hint('KubestashRole', T0))] });
    now = T0 + 10_000;
    const before = calls.length;
    const out = await h({ Records: [record('1', hint('KubestashRole', now))] });
    expect(out.batchItemFailures).toEqual([]);
    expect(calls.slice(before).map((c) => c - T0)).toEqual([10_000, 12_000]);
    expect(warned).toContain(
      'could not look at the Jobs the gate holds; answered the hints with a pass instead',
    );
  });

  test('a ServiceAccount change needs a pass after its second is settled: an idle seed runs at once, then once more after the wait', async () => {
    const { h, calls, slept } = clocked();
    await h({ Records: [record('0', saChanged('KubestashRole', T0 + 300))] });
    expect(calls.map((c) => c.at)).toEqual([T0, T0 + 2_000]);
    expect(slept).toEqual([1_850]);
  });

  test('once a pass at once leaves ServiceAccount changes unanswered, the busy seed waits and coalesces until idle', async () => {
    const { h, calls, advance } = clocked();
    await h({ Records: [record('0', saChanged('KubestashRole', T0))] });
    // Passes at T0 and T0+2000 (ends +2150); then two batches within the idle window.
    advance(350);
    await h({ Records: [record('1', saChanged('KubestashRole', T0 + 2_500))] });
    await h({ Records: [record('2', saChanged('KubestashRole', T0 + 2_600))] });
    // The first waits for its second (T0+2s) to settle: one pass at T0+4000 answers both.
    expect(calls.map((c) => c.at - T0)).toEqual([0, 2_000, 4_000]);
  });

  test('hints and other seeds: each seed is reconciled on its own, and an old hint is dropped once a later pass answered it', async () => {
    const { h, calls, advance, now } = clocked();
    await h({ Records: [record('1', hint('KubestashRole', T0))] });
    advance(5_000);
    const later = now();
    await h({
      Records: [
        record('2', hint('KubestashRole', T0)),
        record('3', hint('VeleroRole', T0)),
        record('4', saChanged('KubestashRole', later)),
      ],
    });
    // In message order: KubestashRole's old hint is answered by its earlier looks (no pass);
    // VeleroRole's first pass here; KubestashRole's change costs a pass at once and one after its
    // second settles.
    expect(calls.map((c) => c.seed)).toEqual([
      'KubestashRole',
      'VeleroRole',
      'KubestashRole',
      'KubestashRole',
    ]);
    expect(calls[3].at).toBeGreaterThanOrEqual(Math.floor(later / 1_000) * 1_000 + 2_000);
  });

  test('a whole event (a message queued before the input transformer) reads the same', async () => {
    const { h, calls } = clocked();
    const whole = {
      ...hint('KubestashRole', T0),
      id: 'e-1',
      detail: {
        seed: 'KubestashRole',
        cluster: 'prod',
        namespace: 'demo',
        job: 'j',
        serviceAccount: 'j',
      },
    };
    expect((await h({ Records: [record('0', whole)] })).batchItemFailures).toEqual([]);
    expect(calls).toHaveLength(1);
  });

  /** A handler whose pass fails (throws, or asks to retry later) while `failing()` holds; counts passes. */
  function flaky(failing: () => boolean, how: 'throw' | 'retryLater') {
    const calls: number[] = [];
    const h = createReconcileHandler({
      env,
      reconcile: async () => {
        calls.push(1);
        if (!failing()) return result();
        if (how === 'throw') throw new Error('IAM unavailable');
        return { ...result(), retryLater: 'CreateRole KubestashRole-1: AccessDenied: denied' };
      },
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test', serviceName: 'reconciler' }),
      now: () => T0 + 60_000,
      sleep: async () => {},
    });
    return { h, calls };
  }

  test.each([
    ['a failed pass', 'throw'],
    ['a pass that could not create a role it needs (retryLater)', 'retryLater'],
  ] as const)(
    '%s returns its message and marks nothing answered: the redelivery gets a pass',
    async (_, how) => {
      let fail = true;
      const { h, calls } = flaky(() => fail, how);
      const event = { Records: [record('1', hint('KubestashRole', T0))] };
      expect((await h(event)).batchItemFailures).toEqual([{ itemIdentifier: '1' }]);
      fail = false;
      expect((await h(event)).batchItemFailures).toEqual([]);
      expect(calls).toHaveLength(2);
    },
  );
});
