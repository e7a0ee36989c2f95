import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { reconcileEventSchema } from '../../../lambda/events/reconcile-event';
import { REFUSED, createJobGateHandler } from '../../../lambda/handlers/job-gate';
import type {
  ServiceAccountReader,
  ServiceAccountRecord,
} from '../../../lambda/ports/kubernetes-port';
import type { BusEntry, EventPublisherPort } from '../../../lambda/ports/event-publisher-port';
import { applyJsonPatch } from '../../support/json-patch';
import {
  GATE_PATH,
  GATE_TOKEN,
  GATE_TOKEN_SECRET,
  InMemoryGateTokens,
  SETTINGS,
  fixtureTokens,
} from '../../support/gate-fixtures';

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
    rawPath: GATE_PATH,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    isBase64Encoded: false,
    body,
    requestContext: { http: { method: 'POST', path: '/clusters/prod-cluster' } },
    ...overrides,
  } as LambdaFunctionURLEvent;
}

/** The port as the gate uses it: one ServiceAccount lookup, answered as given. */
function reader(
  answer: () => Promise<ServiceAccountRecord | undefined> = async () => ({
    namespace: 'demo',
    name: 'sa',
    uid: 'sa-uid',
    resourceVersion: '1',
    annotations: {
      'go.klusters.dev/seed-role-name': 'arn:aws:iam::111122223333:role/KubestashRole',
    },
  }),
): ServiceAccountReader {
  return { getServiceAccount: answer };
}

function handler(
  publisher = new RecordingPublisher(),
  settings = SETTINGS,
  tokens = fixtureTokens(),
  serviceAccounts = reader(),
) {
  return {
    publisher,
    handle: createJobGateHandler({
      settings,
      tokens,
      publisher,
      serviceAccounts: () => serviceAccounts,
      readBudgetMs: 200,
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
    }),
  };
}

type Review = { response: { uid: string; allowed: boolean; patchType?: string; patch?: string } };

describe('job gate handler', () => {
  test.each<[string, () => Promise<ServiceAccountRecord | undefined>]>([
    ['the API server does not answer within the budget', () => new Promise(() => {})],
    [
      'the API server refuses the read',
      async () => Promise.reject(new Error('HTTP 403 Forbidden')),
    ],
  ])('%s: the Job passes unchanged, counted as ServiceAccountUnread', async (_, answer) => {
    const { handle, publisher } = handler(
      new RecordingPublisher(),
      SETTINGS,
      fixtureTokens(),
      reader(answer),
    );
    const added = jest.spyOn(Metrics.prototype, 'addMetric');
    const reply = await handle(request(FIXTURE));
    const review = JSON.parse(String(reply.body)) as Review;
    expect(review.response).toEqual({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
    expect(publisher.published).toEqual([]);
    expect(added).toHaveBeenCalledWith('ServiceAccountUnread', 'Count', 1);
    added.mockRestore();
  });

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
});

describe('job gate authentication (forged reviews)', () => {
  const OTHER_TOKEN = 'Wr0ngT0kenWr0ngT0kenWr0ngT0kenWr0ngT0kenWr0ngT0ke';
  test.each([
    ['no token', '/clusters/prod-cluster', FIXTURE],
    ['no token, trailing slash', '/clusters/prod-cluster/', FIXTURE],
    ['a wrong token', `/clusters/prod-cluster/${OTHER_TOKEN}`, FIXTURE],
    ['a token one character short', GATE_PATH.slice(0, -1), FIXTURE],
    ['the token with a suffix', `${GATE_PATH}x`, FIXTURE],
    ['the right token for an unknown cluster', `/clusters/other-cluster/${GATE_TOKEN}`, FIXTURE],
    ['the token under another prefix', `/cluster/prod-cluster/${GATE_TOKEN}`, FIXTURE],
    ['the token in a query-like segment', `/clusters/prod-cluster?token=${GATE_TOKEN}`, FIXTURE],
    ['a path traversal', `/clusters/../clusters/prod-cluster/${GATE_TOKEN}`, FIXTURE],
    ['the root', '/', FIXTURE],
    ['garbage path and body', '/%00%ff', 'garbage'],
    ['an empty path', '', '{}'],
  ])('%s: a bare 404, nothing published, nothing disclosed', async (_, rawPath, body) => {
    const { handle, publisher } = handler();
    const reply = await handle(request(body, { rawPath }));
    expect(reply).toEqual(REFUSED);
    expect(reply).toEqual({ statusCode: 404 });
    expect(publisher.published).toHaveLength(0);
  });

  test('a refused GET is refused before the method is looked at (no 405 that admits a gate is here)', async () => {
    const { handle } = handler();
    const reply = await handle(
      request('', {
        rawPath: '/clusters/prod-cluster',
        requestContext: { http: { method: 'GET' } },
      } as Partial<LambdaFunctionURLEvent>),
    );
    expect(reply).toEqual({ statusCode: 404 });
  });

  test('forged requests cost no token reads: the store is read once per TTL whatever arrives', async () => {
    const store = new InMemoryGateTokens();
    const { handle } = handler(
      new RecordingPublisher(),
      SETTINGS,
      fixtureTokens(store, () => 0),
    );
    for (let i = 0; i < 50; i++) await handle(request(FIXTURE, { rawPath: `/clusters/x/${i}` }));
    await handle(request(FIXTURE));
    expect(store.reads).toEqual([GATE_TOKEN_SECRET]);
  });

  test('rotation without downtime: after PutSecretValue both the new and the previous token work; two rotations retire the oldest', async () => {
    const store = new InMemoryGateTokens();
    let now = 0;
    const { handle, publisher } = handler(
      new RecordingPublisher(),
      SETTINGS,
      fixtureTokens(store, () => now),
    );
    const NEW = 'N3wT0kenN3wT0kenN3wT0kenN3wT0kenN3wT0kenN3wT0ken';
    const NEWER = 'N3w3rT0kenN3w3rT0kenN3w3rT0kenN3w3rT0kenN3w3rT0';
    store.rotate(GATE_TOKEN_SECRET, NEW);
    // Within the TTL the gate still holds what it read: the old token works, the new not yet.
    expect((await handle(request(FIXTURE))).statusCode).toBe(200);
    now = 60_000;
    expect((await handle(request(FIXTURE))).statusCode).toBe(200);
    expect(
      (await handle(request(FIXTURE, { rawPath: `/clusters/prod-cluster/${NEW}` }))).statusCode,
    ).toBe(200);
    store.rotate(GATE_TOKEN_SECRET, NEWER);
    now = 120_000;
    expect(await handle(request(FIXTURE))).toEqual(REFUSED);
    expect(
      (await handle(request(FIXTURE, { rawPath: `/clusters/prod-cluster/${NEW}` }))).statusCode,
    ).toBe(200);
    expect(publisher.published.length).toBeGreaterThan(0);
  });

  test('a store that cannot be read refuses everything until it can (fail closed)', async () => {
    const store = new InMemoryGateTokens({});
    const { handle, publisher } = handler(
      new RecordingPublisher(),
      SETTINGS,
      fixtureTokens(store, () => 0),
    );
    expect(await handle(request(FIXTURE))).toEqual(REFUSED);
    expect(publisher.published).toHaveLength(0);
  });
});
