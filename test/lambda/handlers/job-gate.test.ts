import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { reconcileEventSchema } from '../../../lambda/events/reconcile-event';
import { clusterOf, createJobGateHandler } from '../../../lambda/handlers/job-gate';
import type { BusEntry, EventPublisherPort } from '../../../lambda/ports/event-publisher-port';
import { applyJsonPatch } from '../../support/json-patch';
import { SETTINGS } from '../../support/gate-fixtures';

const FIXTURE = fs.readFileSync(
  path.join(__dirname, '../../fixtures/admission/kubestash-backup-job.json'),
  'utf8',
);

class RecordingPublisher implements EventPublisherPort {
  readonly published: BusEntry[] = [];
  constructor(private readonly behaviour: 'ok' | 'fail' | 'hang' = 'ok') {}
  async publish(entries: readonly BusEntry[]): Promise<void> {
    if (this.behaviour === 'fail') throw new Error('ThrottlingException');
    if (this.behaviour === 'hang') await new Promise((r) => setTimeout(r, 5_000));
    this.published.push(...entries);
  }
}

function request(
  body: string,
  overrides: Partial<LambdaFunctionURLEvent> = {},
): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/clusters/prod-cluster',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    body,
    requestContext: { http: { method: 'POST', path: '/clusters/prod-cluster' } },
    ...overrides,
  } as LambdaFunctionURLEvent;
}

function handler(publisher = new RecordingPublisher(), settings = SETTINGS) {
  return {
    publisher,
    handle: createJobGateHandler({
      settings,
      publisher,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
    }),
  };
}

type Review = { response: { uid: string; allowed: boolean; patchType?: string; patch?: string } };

describe('job gate handler', () => {
  test('observe-only: a Job it would hold passes unchanged, and the reconciler is still hinted', async () => {
    const { handle, publisher } = handler(new RecordingPublisher(), {
      ...SETTINGS,
      observeOnly: true,
    });
    const reply = await handle(request(FIXTURE));
    expect(reply.statusCode).toBe(200);
    const review = JSON.parse(String(reply.body)) as Review;
    expect(review.response).toEqual({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
    expect(publisher.published).toHaveLength(1);
  });

  test('answers a KubeStash Job with an allowed review carrying the JSON patch, and hints the reconciler', async () => {
    const { handle, publisher } = handler();
    const reply = await handle(request(FIXTURE));
    expect(reply.statusCode).toBe(200);
    const review = JSON.parse(String(reply.body)) as Review;
    expect(review.response).toMatchObject({
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      allowed: true,
      patchType: 'JSONPatch',
    });
    const patch = JSON.parse(
      Buffer.from(String(review.response.patch), 'base64').toString(),
    ) as unknown[];
    const job = applyJsonPatch(
      (JSON.parse(FIXTURE) as { request: { object: unknown } }).request.object,
      patch,
    ) as { spec: { suspend: boolean } };
    expect(job.spec.suspend).toBe(true);

    expect(publisher.published).toHaveLength(1);
    const [entry] = publisher.published;
    const event = reconcileEventSchema.parse({
      source: entry.Source,
      'detail-type': entry.DetailType,
      detail: JSON.parse(entry.Detail),
    });
    expect(event.detail).toEqual({
      seed: 'KubestashRole',
      cluster: 'prod-cluster',
      namespace: 'demo',
      job: 'sample-backup-daemon-demo-session-1778072138',
      serviceAccount: 'sample-backup-daemon-demo-session-1778072138',
    });
  });

  test('a base64 body (as Function URLs may deliver it) is read the same', async () => {
    const { handle } = handler();
    const reply = await handle(
      request(Buffer.from(FIXTURE).toString('base64'), { isBase64Encoded: true }),
    );
    expect((JSON.parse(String(reply.body)) as Review).response.patchType).toBe('JSONPatch');
  });

  test('dry-run: the same patch, no hint', async () => {
    const { handle, publisher } = handler();
    const dry = JSON.parse(FIXTURE) as { request: { dryRun: boolean } };
    dry.request.dryRun = true;
    const reply = await handle(request(JSON.stringify(dry)));
    expect((JSON.parse(String(reply.body)) as Review).response.patchType).toBe('JSONPatch');
    expect(publisher.published).toHaveLength(0);
  });

  test('a failing or hanging bus never changes the answer, and the answer does not wait for it', async () => {
    for (const behaviour of ['fail', 'hang'] as const) {
      const { handle } = handler(new RecordingPublisher(behaviour));
      const started = Date.now();
      const reply = await handle(request(FIXTURE));
      expect(reply.statusCode).toBe(200);
      expect((JSON.parse(String(reply.body)) as Review).response.allowed).toBe(true);
      expect(Date.now() - started).toBeLessThan(1_000);
    }
  });

  test('a Job outside the gate passes: allowed, no patch, no hint', async () => {
    const { handle, publisher } = handler();
    const other = JSON.parse(FIXTURE) as { request: { operation: string } };
    other.request.operation = 'UPDATE';
    const review = JSON.parse(
      String((await handle(request(JSON.stringify(other)))).body),
    ) as Review;
    expect(review.response).toEqual({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
    expect(publisher.published).toHaveLength(0);
  });

  test('a webhook URL without the cluster still gates, without a hint', async () => {
    const { handle, publisher } = handler();
    const reply = await handle(request(FIXTURE, { rawPath: '/' }));
    expect((JSON.parse(String(reply.body)) as Review).response.patchType).toBe('JSONPatch');
    expect(publisher.published).toHaveLength(0);
  });

  test.each([
    ['not JSON', 'hello', /not JSON/],
    ['JSON but no review', '{"a":1}', /not an admission.k8s.io\/v1 AdmissionReview/],
    [
      'an old v1beta1 review',
      FIXTURE.replace('admission.k8s.io/v1', 'admission.k8s.io/v1beta1'),
      /AdmissionReview/,
    ],
    [
      'a review without uid',
      FIXTURE.replace('"uid": "705ab4f5-6393-11e8-b7cc-42010a800002"', '"uid": ""'),
      /uid/,
    ],
    ['an empty body', '', /not JSON/],
  ])('%s is a 400 that says what is wrong', async (_, body, message) => {
    const { handle, publisher } = handler();
    const reply = await handle(request(body));
    expect(reply.statusCode).toBe(400);
    expect((JSON.parse(String(reply.body)) as { message: string }).message).toMatch(message);
    expect(publisher.published).toHaveLength(0);
  });

  test('a GET is a 405', async () => {
    const { handle } = handler();
    const reply = await handle(
      request('', {
        requestContext: { http: { method: 'GET' } },
      } as Partial<LambdaFunctionURLEvent>),
    );
    expect(reply.statusCode).toBe(405);
  });

  test('the cluster comes from the URL path', () => {
    expect(clusterOf('/clusters/prod-cluster')).toBe('prod-cluster');
    expect(clusterOf('/clusters/prod_cluster/')).toBe('prod_cluster');
    expect(clusterOf('/clusters/../etc')).toBeUndefined();
    expect(clusterOf('/')).toBeUndefined();
  });
});
