import fc from 'fast-check';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { createReconcileHandler } from '../../../lambda/handlers/reconcile';
import { quietReconcileResult } from '../../support/reconcile-results';

const T0 = Date.parse('2026-11-30T07:00:00Z');
const SEED = 'KubestashRole';
const env = {
  RECONCILER_SEEDS: [
    {
      name: SEED,
      clusters: [{ name: 'prod', issuer: 'i', providerArn: 'arn:aws:iam::1:oidc-provider/i' }],
      conditionOperator: 'StringLike' as const,
    },
  ],
  EMPTY_ROLE_GRACE_SECONDS: 600,
};

interface Hinted {
  /** When the gate published the hint (epoch ms): EventBridge stamps its second. */
  readonly hintedAt: number;
  /** When the API server stored the Job: after the gate answered, within its 400 ms hint bound. */
  readonly storedAt: number;
}

/**
 * The handler against SQS FIFO as AWS runs it, on a virtual clock: one
 * message per second that holds a hint (the rule's body is the same for every
 * hint of a second, and content-based deduplication remembers a body for 5
 * minutes, so a hint of a second whose message was already consumed is
 * dropped too), batches of up to ten in order, each handled once the previous
 * one returned. A pass judges every Job stored by its start and takes
 * `passMs`; a look lists the Jobs stored when it is sent and takes `lookMs`.
 * Returns the Jobs no pass judged once everything is delivered and handled.
 */
async function play(jobs: readonly Hinted[], passMs: number, lookMs: number) {
  let now = T0;
  const judged = new Set<number>();
  const stored = (t: number) =>
    new Set(jobs.flatMap((j, i) => (j.storedAt <= t ? [`job-${i}`] : [])));
  const handle = createReconcileHandler({
    env,
    reconcile: async () => {
      const start = now;
      jobs.forEach((j, i) => {
        if (j.storedAt <= start) judged.add(i);
      });
      now += passMs;
      return {
        ...quietReconcileResult(),
        gateJobs: {
          // Nothing is released: the worst case for the looks, every judged Job stays held.
          marked: stored(start),
          heldNow: async () => {
            const sent = now;
            now += lookMs;
            return stored(sent);
          },
          complete: true,
        },
      };
    },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'reconciler' }),
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  });
  const seconds = new Map<number, number>(); // second → when its message was sent
  for (const j of [...jobs].sort((a, b) => a.hintedAt - b.hintedAt)) {
    const second = Math.floor(j.hintedAt / 1_000) * 1_000;
    if (!seconds.has(second)) seconds.set(second, j.hintedAt);
  }
  const queue = [...seconds.entries()].sort((a, b) => a[1] - b[1]);
  let id = 0;
  while (queue.length > 0) {
    now = Math.max(now, queue[0][1]);
    const batch = queue.filter(([, sent]) => sent <= now).slice(0, 10);
    queue.splice(0, batch.length);
    const records = batch.map(
      ([second, sent]) =>
        ({
          messageId: `m-${id++}`,
          body: JSON.stringify({
            source: 'kubestash-irsa',
            'detail-type': 'Job Gated',
            time: new Date(second).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            detail: { seed: SEED },
          }),
          attributes: { SentTimestamp: String(sent) },
        }) as unknown as SQSRecord,
    );
    const out = await handle({ Records: records });
    expect(out.batchItemFailures).toEqual([]);
  }
  return jobs.flatMap((_, i) => (judged.has(i) ? [] : [i]));
}

test('property: with AWS’s deduplication (a hint of an already consumed second is dropped), every held Job is judged by a pass, whatever the passes and lists cost', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          at: fc.integer({ min: 0, max: 8_000 }),
          delay: fc.integer({ min: 0, max: 400 }),
        }),
        { minLength: 1, maxLength: 80 },
      ),
      fc.integer({ min: 1, max: 3_000 }),
      fc.integer({ min: 1, max: 1_000 }),
      async (specs, passMs, lookMs) => {
        const jobs = specs.map((s) => ({ hintedAt: T0 + s.at, storedAt: T0 + s.at + s.delay }));
        expect(await play(jobs, passMs, lookMs)).toEqual([]);
      },
    ),
    { numRuns: 200 },
  );
});
