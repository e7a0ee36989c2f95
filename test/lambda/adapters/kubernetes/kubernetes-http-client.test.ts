import type { BearerTokenSource } from '../../../../lambda/adapters/kubernetes/bearer-token-source';
import {
  KubernetesHttpClient,
  eventName,
} from '../../../../lambda/adapters/kubernetes/kubernetes-http-client';
import type {
  KubernetesHttpClientOptions,
  RetryNotice,
} from '../../../../lambda/adapters/kubernetes/kubernetes-http-client';
import {
  GATE_RBAC_RULES,
  KUBERNETES_RBAC_RULES,
} from '../../../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import {
  KUBESTASH_MANAGED_BY,
  MANAGED_BY_LABEL,
  ROLE_ARN_ANNOTATION,
  SEED_ROLE_ANNOTATION,
} from '../../../../lambda/ports/annotations';
import {
  KubernetesApiError,
  KubernetesConflictError,
  KubernetesForbiddenError,
  KubernetesNotFoundError,
  KubernetesUnauthorizedError,
  KubernetesUnavailableError,
} from '../../../../lambda/ports/kubernetes-port';
import type { KubernetesEventSpec } from '../../../../lambda/ports/kubernetes-port';
import { KubernetesTestServer, createTestPki } from '../../../support/kubernetes-test-server';

const TOKEN = 'k8s-aws-v1.test-bearer';
const SEED = 'arn:aws:iam::123456789012:role/KubestashRole';
const ROLE = 'arn:aws:iam::123456789012:role/kubestash-irsa/KubestashRole-0';
const NOW = new Date('2026-05-06T12:55:49.550Z');
const MANAGED = `${MANAGED_BY_LABEL}=${KUBESTASH_MANAGED_BY}`;

/** Hands out the listed tokens in turn, one more on each invalidate(). */
class ScriptedTokens implements BearerTokenSource {
  invalidations = 0;
  constructor(private readonly tokens: readonly string[]) {}
  async token(): Promise<string> {
    return this.tokens[Math.min(this.invalidations, this.tokens.length - 1)];
  }
  invalidate(): void {
    this.invalidations += 1;
  }
}

let server: KubernetesTestServer;
const seen: { method: string; path: string; access: unknown }[] = [];
const clients: KubernetesHttpClient[] = [];

beforeAll(async () => {
  server = await new KubernetesTestServer({
    acceptToken: TOKEN,
    rbacRules: KUBERNETES_RBAC_RULES,
  }).start();
});
afterEach(async () => {
  seen.push(...server.requests.map((r) => ({ method: r.method, path: r.path, access: r.access })));
  server.reset();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await server.stop();
});

function setup(overrides: Partial<KubernetesHttpClientOptions> = {}) {
  const sleeps: number[] = [];
  const notices: RetryNotice[] = [];
  const client = new KubernetesHttpClient({
    connection: async () => ({ server: server.url, caPem: server.caPem }),
    tokens: new ScriptedTokens([TOKEN]),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    now: () => NOW,
    timeoutMs: 2000,
    onRetry: (n) => notices.push(n),
    ...overrides,
  });
  clients.push(client);
  return { client, sleeps, notices };
}

function seedServiceAccounts(namespace: string, count: number) {
  for (let i = 0; i < count; i++) {
    server.addServiceAccount({
      namespace,
      name: `session-${String(i).padStart(2, '0')}`,
      annotations: { [SEED_ROLE_ANNOTATION]: SEED },
    });
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection');
}

describe('ServiceAccounts', () => {
  test('lists one namespace across pages with limit/continue, with bearer token and JSON accept', async () => {
    seedServiceAccounts('demo', 7);
    seedServiceAccounts('other', 2);
    server.addServiceAccount({
      namespace: 'demo',
      name: 'zz-leaving',
      uid: 'uid-leaving',
      deletionTimestamp: '2026-05-06T12:00:00Z',
    });
    const { client } = setup({ pageSize: 3 });

    const accounts = await client.listServiceAccounts('demo');

    expect(accounts.map((a) => a.name)).toEqual([
      ...Array.from({ length: 7 }, (_, i) => `session-0${i}`),
      'zz-leaving',
    ]);
    expect(accounts[0]).toEqual({
      namespace: 'demo',
      name: 'session-00',
      uid: expect.any(String),
      resourceVersion: expect.stringMatching(/^\d+$/),
      annotations: { [SEED_ROLE_ANNOTATION]: SEED },
    });
    expect(accounts[7]).toMatchObject({
      uid: 'uid-leaving',
      annotations: {},
      deletionTimestamp: '2026-05-06T12:00:00Z',
    });
    const requests = server.requests;
    expect(requests).toHaveLength(3);
    for (const r of requests) {
      expect(r.method).toBe('GET');
      expect(r.path).toBe('/api/v1/namespaces/demo/serviceaccounts');
      expect(r.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.headers.accept).toBe('application/json');
      expect(r.headers['user-agent']).toBe('kubestash-irsa-reconciler');
      expect(r.contentType).toBeUndefined();
      expect(r.query.limit).toBe('3');
    }
    expect(requests[0].query).toEqual({ limit: '3' });
    expect(requests[1].query.continue).toEqual(expect.any(String));
    expect(requests[2].query.continue).not.toBe(requests[1].query.continue);
  });

  test('an expired continue token (410) restarts the list once from the beginning', async () => {
    seedServiceAccounts('demo', 5);
    server.failNext(
      { status: 410, reason: 'Expired', message: 'The provided continue parameter is too old' },
      { when: (r) => r.query.continue !== undefined },
    );
    const { client } = setup({ pageSize: 2 });
    const accounts = await client.listServiceAccounts('demo');
    expect(accounts).toHaveLength(5);
    expect(server.requests.map((r) => [r.status, r.query.continue === undefined])).toEqual([
      [200, true],
      [410, false],
      [200, true],
      [200, false],
      [200, false],
    ]);
  });

  test('gets one, or undefined when it does not exist', async () => {
    const seeded = server.addServiceAccount({
      namespace: 'demo',
      name: 'app-restore',
      annotations: { [SEED_ROLE_ANNOTATION]: SEED },
    });
    const { client } = setup();
    await expect(client.getServiceAccount('demo', 'app-restore')).resolves.toEqual({
      namespace: 'demo',
      name: 'app-restore',
      uid: (seeded.metadata as { uid: string }).uid,
      resourceVersion: (seeded.metadata as { resourceVersion: string }).resourceVersion,
      annotations: { [SEED_ROLE_ANNOTATION]: SEED },
    });
    await expect(client.getServiceAccount('demo', 'missing')).resolves.toBeUndefined();
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /api/v1/namespaces/demo/serviceaccounts/app-restore 200',
      'GET /api/v1/namespaces/demo/serviceaccounts/missing 404',
    ]);
  });

  test('patches annotations with a JSON merge patch carrying uid and resourceVersion preconditions', async () => {
    server.addServiceAccount({
      namespace: 'demo',
      name: 'app-restore',
      uid: 'uid-1',
      annotations: { [SEED_ROLE_ANNOTATION]: SEED, stale: 'x' },
    });
    const { client } = setup();
    const before = await client.getServiceAccount('demo', 'app-restore');

    const after = await client.patchServiceAccountAnnotations(
      'demo',
      'app-restore',
      { [ROLE_ARN_ANNOTATION]: ROLE, stale: null },
      { uid: 'uid-1', resourceVersion: before?.resourceVersion },
    );

    const patch = server.requests[1];
    expect(patch.method).toBe('PATCH');
    expect(patch.path).toBe('/api/v1/namespaces/demo/serviceaccounts/app-restore');
    expect(patch.query).toEqual({});
    expect(patch.contentType).toBe('application/merge-patch+json');
    expect(patch.authorization).toBe(`Bearer ${TOKEN}`);
    expect(patch.body).toEqual({
      metadata: {
        uid: 'uid-1',
        resourceVersion: before?.resourceVersion,
        annotations: { [ROLE_ARN_ANNOTATION]: ROLE, stale: null },
      },
    });
    expect(after.annotations).toEqual({
      [SEED_ROLE_ANNOTATION]: SEED,
      [ROLE_ARN_ANNOTATION]: ROLE,
    });
    expect(Number(after.resourceVersion)).toBeGreaterThan(Number(before?.resourceVersion));
    expect(server.serviceAccount('demo', 'app-restore')?.metadata).toMatchObject({
      annotations: { [SEED_ROLE_ANNOTATION]: SEED, [ROLE_ARN_ANNOTATION]: ROLE },
    });
  });

  test('without preconditions the patch carries only the annotations', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    const { client } = setup();
    await client.patchServiceAccountAnnotations('demo', 'sa', { [ROLE_ARN_ANNOTATION]: ROLE });
    expect(server.requests[0].body).toEqual({
      metadata: { annotations: { [ROLE_ARN_ANNOTATION]: ROLE } },
    });
  });

  test('never annotates a ServiceAccount re-created under the same name (uid precondition)', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa', uid: 'uid-old' });
    server.deleteServiceAccount('demo', 'sa');
    server.addServiceAccount({ namespace: 'demo', name: 'sa', uid: 'uid-new' });
    const { client, sleeps } = setup();

    const error = await rejection(
      client.patchServiceAccountAnnotations(
        'demo',
        'sa',
        { [ROLE_ARN_ANNOTATION]: ROLE },
        { uid: 'uid-old' },
      ),
    );

    expect(error).toBeInstanceOf(KubernetesConflictError);
    expect(error).toMatchObject({ status: 422, reason: 'UidMismatch' });
    expect(error.message).toMatch(
      /patch serviceaccounts sa in namespace demo: HTTP 422: .*metadata\.uid.*re-created/,
    );
    expect(server.serviceAccount('demo', 'sa')?.metadata).not.toHaveProperty('annotations');
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test('a stale resourceVersion is a 409 Conflict; a vanished ServiceAccount is NotFound', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa', uid: 'uid-1' });
    const { client } = setup();
    const read = await client.getServiceAccount('demo', 'sa');
    await client.patchServiceAccountAnnotations('demo', 'sa', { other: 'writer' });

    const conflict = await rejection(
      client.patchServiceAccountAnnotations(
        'demo',
        'sa',
        { [ROLE_ARN_ANNOTATION]: ROLE },
        {
          uid: 'uid-1',
          resourceVersion: read?.resourceVersion,
        },
      ),
    );
    expect(conflict).toBeInstanceOf(KubernetesConflictError);
    expect(conflict).toMatchObject({ status: 409, reason: 'Conflict' });

    const missing = await rejection(
      client.patchServiceAccountAnnotations('demo', 'gone', { [ROLE_ARN_ANNOTATION]: ROLE }),
    );
    expect(missing).toBeInstanceOf(KubernetesNotFoundError);
    expect(missing.message).toContain('serviceaccounts "gone" not found');
  });
});

describe('Events', () => {
  const refusal: KubernetesEventSpec = {
    involvedObject: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      namespace: 'demo',
      name: 'app-restore',
      uid: 'uid-1',
    },
    reason: 'SeedNotAllowed',
    message: `seed ${SEED}-other is not configured for this cluster`,
    type: 'Warning',
  };

  test('creates a core/v1 Event in the object namespace, once per distinct refusal', async () => {
    const { client } = setup();

    await expect(client.createEvent(refusal)).resolves.toBe('created');
    await expect(client.createEvent(refusal)).resolves.toBe('duplicate');
    await expect(client.createEvent({ ...refusal, message: 'another' })).resolves.toBe('created');

    const [first] = server.requests;
    expect(first.method).toBe('POST');
    expect(first.path).toBe('/api/v1/namespaces/demo/events');
    expect(first.contentType).toBe('application/json');
    expect(first.body).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(refusal), namespace: 'demo' },
      involvedObject: refusal.involvedObject,
      reason: 'SeedNotAllowed',
      message: refusal.message,
      type: 'Warning',
      source: { component: 'kubestash-irsa-reconciler' },
      reportingComponent: 'kubestash-irsa-reconciler',
      firstTimestamp: '2026-05-06T12:55:49Z',
      lastTimestamp: '2026-05-06T12:55:49Z',
      count: 1,
    });
    expect(eventName(refusal)).toMatch(/^app-restore\.[0-9a-f]{16}$/);
    expect(server.requests.map((r) => r.status)).toEqual([201, 409, 201]);
    expect(server.events).toHaveLength(2);
  });

  test('event names stay valid DNS subdomains for the longest object names; messages are capped', async () => {
    const longName = `${'a'.repeat(230)}-${'b'.repeat(22)}`;
    const spec = { ...refusal, involvedObject: { ...refusal.involvedObject, name: longName } };
    const name = eventName(spec);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(name).not.toMatch(/[-.]\./);

    const { client } = setup();
    await client.createEvent({ ...refusal, message: 'x'.repeat(5000) });
    expect((server.requests[0].body as { message: string }).message).toHaveLength(1024);
  });
});

describe('Jobs', () => {
  function seedJobs() {
    server.addJob({
      namespace: 'demo',
      name: 'backup-1',
      uid: 'job-1',
      labels: { [MANAGED_BY_LABEL]: KUBESTASH_MANAGED_BY },
      annotations: { 'go.klusters.dev/bucket-names': 'b1,b2' },
      suspend: true,
      serviceAccountName: 'backup-1-sa',
    });
    server.addJob({
      namespace: 'demo',
      name: 'backup-2',
      labels: { [MANAGED_BY_LABEL]: KUBESTASH_MANAGED_BY },
      suspend: false,
    });
    server.addJob({
      namespace: 'demo',
      name: 'backup-3',
      labels: { [MANAGED_BY_LABEL]: KUBESTASH_MANAGED_BY },
      suspend: true,
      conditions: [{ type: 'Failed', status: 'True' }],
    });
    server.addJob({ namespace: 'demo', name: 'unrelated', suspend: true });
    server.addJob({
      namespace: 'other',
      name: 'backup-9',
      labels: { [MANAGED_BY_LABEL]: KUBESTASH_MANAGED_BY },
      suspend: true,
    });
  }

  test('gets a Job as a record, or undefined', async () => {
    seedJobs();
    const { client } = setup();
    await expect(client.getJob('demo', 'backup-1')).resolves.toEqual({
      namespace: 'demo',
      name: 'backup-1',
      uid: 'job-1',
      resourceVersion: expect.any(String),
      labels: { [MANAGED_BY_LABEL]: KUBESTASH_MANAGED_BY },
      annotations: { 'go.klusters.dev/bucket-names': 'b1,b2' },
      serviceAccountName: 'backup-1-sa',
      suspended: true,
      finished: false,
      creationTimestamp: expect.any(String),
    });
    await expect(client.getJob('demo', 'backup-2')).resolves.toMatchObject({
      serviceAccountName: 'default',
      suspended: false,
    });
    await expect(client.getJob('demo', 'nope')).resolves.toBeUndefined();
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /apis/batch/v1/namespaces/demo/jobs/backup-1',
      'GET /apis/batch/v1/namespaces/demo/jobs/backup-2',
      'GET /apis/batch/v1/namespaces/demo/jobs/nope',
    ]);
  });

  test('lists Jobs by label selector, suspended or not, across pages', async () => {
    seedJobs();
    const { client } = setup({ pageSize: 1 });
    const jobs = await client.listJobs('demo', MANAGED);
    expect(jobs.map((j) => [j.name, j.suspended, j.finished])).toEqual([
      ['backup-1', true, false],
      ['backup-2', false, false],
      ['backup-3', true, true],
    ]);
    expect(server.requests).toHaveLength(3);
    for (const r of server.requests) {
      expect(r.path).toBe('/apis/batch/v1/namespaces/demo/jobs');
      expect(r.query.labelSelector).toBe('app.kubernetes.io/managed-by=kubestash.com');
      expect(r.query.limit).toBe('1');
    }
  });

  test('unsuspends with one merge patch on spec.suspend and the gate annotation, guarded by uid', async () => {
    seedJobs();
    const { client } = setup();
    const job = await client.setJobSuspended('demo', 'backup-1', false, {
      preconditions: { uid: 'job-1' },
      annotations: { 'kubestash-irsa.io/gate': 'released' },
    });
    expect(job).toMatchObject({ name: 'backup-1', suspended: false });
    await client.setJobSuspended('demo', 'backup-2', true);
    const [first, second] = server.requests;
    expect(first).toMatchObject({
      method: 'PATCH',
      path: '/apis/batch/v1/namespaces/demo/jobs/backup-1',
      contentType: 'application/merge-patch+json',
      body: {
        metadata: { uid: 'job-1', annotations: { 'kubestash-irsa.io/gate': 'released' } },
        spec: { suspend: false },
      },
    });
    expect(
      (server.job('demo', 'backup-1')?.metadata as { annotations: Record<string, string> })
        .annotations['kubestash-irsa.io/gate'],
    ).toBe('released');
    expect(second.body).toEqual({ spec: { suspend: true } });

    const error = await rejection(
      client.setJobSuspended('demo', 'backup-3', false, { preconditions: { uid: 'job-1' } }),
    );
    expect(error).toBeInstanceOf(KubernetesConflictError);
    expect(server.job('demo', 'backup-3')?.spec).toMatchObject({ suspend: true });
  });
});

test('pod-template annotations change with the unsuspend while the Job never ran; afterwards the template is immutable', async () => {
  server.addJob({ namespace: 'demo', name: 'held', uid: 'job-h', suspend: true });
  const { client } = setup();
  await client.setJobSuspended('demo', 'held', false, {
    templateAnnotations: { 'kubestash-irsa.io/access-check': 'skip' },
    preconditions: { uid: 'job-h' },
  });
  expect(server.requests[0].body).toMatchObject({
    spec: {
      suspend: false,
      template: { metadata: { annotations: { 'kubestash-irsa.io/access-check': 'skip' } } },
    },
  });
  const template = (server.job('demo', 'held')?.spec as { template: { metadata: unknown } })
    .template;
  expect(template.metadata).toEqual({ annotations: { 'kubestash-irsa.io/access-check': 'skip' } });
  // Running now: the API server refuses any further template change.
  await expect(
    client.setJobSuspended('demo', 'held', true, {
      templateAnnotations: { 'kubestash-irsa.io/access-check': null },
    }),
  ).rejects.toThrow(/field is immutable/);
});

describe('MutatingWebhookConfigurations', () => {
  test('lists them cluster-scoped, each webhook with its failure policy and where it is served: a service in the cluster, or a URL', async () => {
    server.addMutatingWebhookConfiguration({
      name: 'aws-credential-manager',
      webhooks: [
        {
          name: 'mutate-job.aws-credential-manager.kubeops.dev',
          service: { namespace: 'kubeops', name: 'acm' },
        },
      ],
    });
    server.addMutatingWebhookConfiguration({
      name: 'kubestash-irsa-job-gate',
      webhooks: [
        {
          name: 'job-gate.kubestash-irsa.io',
          failurePolicy: 'Ignore',
          url: 'https://abc.lambda-url.us-east-1.on.aws/clusters/prod/t0ken',
        },
      ],
    });
    // A cluster-scoped list the reconciler's Roles never grant: an administrator's (npm run status, migrate).
    server.rbacRules = [
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations'],
        verbs: ['list'],
      },
    ];
    const { client } = setup();
    const listed = await client.listMutatingWebhookConfigurations();
    expect(listed).toEqual([
      {
        name: 'aws-credential-manager',
        webhooks: [
          {
            name: 'mutate-job.aws-credential-manager.kubeops.dev',
            failurePolicy: 'Fail',
            serviceNamespace: 'kubeops',
            serviceName: 'acm',
          },
        ],
      },
      {
        name: 'kubestash-irsa-job-gate',
        webhooks: [
          {
            name: 'job-gate.kubestash-irsa.io',
            failurePolicy: 'Ignore',
            url: 'https://abc.lambda-url.us-east-1.on.aws/clusters/prod/t0ken',
          },
        ],
      },
    ]);
    expect(server.requests.map((r) => r.path.split('?')[0])).toEqual([
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    ]);
    // Not a request of the reconciler's: kept out of the KUBERNETES_RBAC_RULES coverage check.
    server.requests.length = 0;
  });
});

describe('TokenRequest', () => {
  test('posts an authentication.k8s.io/v1 TokenRequest and returns the token', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'backup-1-sa' });
    const { client } = setup();
    const token = await client.createServiceAccountToken(
      'demo',
      'backup-1-sa',
      'sts.amazonaws.com',
      600,
    );
    expect(token).toBe(server.issuedTokens[0].token);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/v1/namespaces/demo/serviceaccounts/backup-1-sa/token',
      contentType: 'application/json',
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: ['sts.amazonaws.com'], expirationSeconds: 600 },
      },
    });
  });

  test('refuses durations the API server would refuse, before calling it; a missing SA is NotFound', async () => {
    const { client } = setup();
    await expect(
      client.createServiceAccountToken('demo', 'sa', 'sts.amazonaws.com', 599),
    ).rejects.toThrow(RangeError);
    await expect(
      client.createServiceAccountToken('demo', 'sa', 'sts.amazonaws.com', 900.5),
    ).rejects.toThrow(RangeError);
    expect(server.requests).toHaveLength(0);
    await expect(
      client.createServiceAccountToken('demo', 'sa', 'sts.amazonaws.com', 600),
    ).rejects.toBeInstanceOf(KubernetesNotFoundError);
  });
});

describe('refusals', () => {
  test('403 names the verb, resource, namespace and the missing RBAC rule, and is not retried', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    server.rbacRules = KUBERNETES_RBAC_RULES.map((rule) =>
      rule.resources.includes('serviceaccounts')
        ? { ...rule, verbs: rule.verbs.filter((v) => v !== 'patch') }
        : rule,
    );
    const { client, sleeps } = setup();
    const error = await rejection(
      client.patchServiceAccountAnnotations('demo', 'sa', { [ROLE_ARN_ANNOTATION]: ROLE }),
    );
    expect(error).toBeInstanceOf(KubernetesForbiddenError);
    expect(error.message).toContain('patch serviceaccounts sa in namespace demo: HTTP 403');
    expect(error.message).toContain('cannot patch resource "serviceaccounts"');
    expect(error.message).toContain(
      '{ apiGroups: [""], resources: ["serviceaccounts"], verbs: ["patch"] }',
    );
    expect(error.message).not.toContain(TOKEN);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test('403 on a subresource names it: serviceaccounts/token create', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    server.rbacRules = KUBERNETES_RBAC_RULES.filter(
      (r) => !r.resources.includes('serviceaccounts/token'),
    );
    const { client } = setup();
    const error = await rejection(
      client.createServiceAccountToken('demo', 'sa', 'sts.amazonaws.com', 600),
    );
    expect(error).toBeInstanceOf(KubernetesForbiddenError);
    expect(error.message).toContain('resources: ["serviceaccounts/token"], verbs: ["create"]');
  });

  test('401 drops the cached token and retries once with a fresh one', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    const tokens = new ScriptedTokens(['k8s-aws-v1.expired', TOKEN]);
    const { client, sleeps, notices } = setup({ tokens });
    await expect(client.getServiceAccount('demo', 'sa')).resolves.toMatchObject({ name: 'sa' });
    expect(server.requests.map((r) => [r.authorization, r.status])).toEqual([
      ['Bearer k8s-aws-v1.expired', 401],
      [`Bearer ${TOKEN}`, 200],
    ]);
    expect(tokens.invalidations).toBe(1);
    expect(sleeps).toEqual([]);
    expect(notices.map((n) => n.cause)).toEqual(['token refused']);
  });

  test('a second 401 is KubernetesUnauthorizedError pointing at the access entry, without the token', async () => {
    const bad = 'k8s-aws-v1.not-mapped-to-any-access-entry';
    const { client } = setup({ tokens: new ScriptedTokens([bad]) });
    const error = await rejection(client.listServiceAccounts('demo'));
    expect(error).toBeInstanceOf(KubernetesUnauthorizedError);
    expect(error.message).toMatch(/access entry/);
    expect(error.message).not.toContain(bad);
    expect(server.requests).toHaveLength(2);
  });

  test('other statuses become KubernetesApiError with the server message', async () => {
    server.failNext({ status: 400, reason: 'BadRequest', message: 'continue key is not valid' });
    const { client } = setup();
    const error = await rejection(client.listServiceAccounts('demo'));
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).toMatchObject({ status: 400 });
    expect(error.message).toBe(
      'list serviceaccounts in namespace demo: HTTP 400: continue key is not valid',
    );
  });
});

describe('retries', () => {
  test('429 waits what Retry-After says, then succeeds', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    server.failNext({
      status: 429,
      retryAfter: '2',
      message: 'too many requests, please try again later',
    });
    const { client, sleeps, notices } = setup();
    await expect(client.getServiceAccount('demo', 'sa')).resolves.toBeDefined();
    expect(sleeps).toEqual([2000]);
    expect(notices).toEqual([
      {
        target: {
          verb: 'get',
          apiGroup: '',
          resource: 'serviceaccounts',
          namespace: 'demo',
          name: 'sa',
        },
        attempt: 1,
        delayMs: 2000,
        cause: 'HTTP 429',
      },
    ]);
    expect(server.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  test('503 honours an HTTP-date Retry-After, and backs off with jitter without one', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    server.failNext({ status: 503, retryAfter: new Date(NOW.getTime() + 3000).toUTCString() });
    server.failNext({ status: 503 }, { count: 2 });
    const { client, sleeps } = setup();
    await client.patchServiceAccountAnnotations('demo', 'sa', { a: 'b' });
    // HTTP dates have whole seconds: NOW is at .550, so 3 s later is 2.45 s away.
    expect(sleeps).toEqual([2450, 200, 400]);
    expect(server.requests.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    expect(server.requests.every((r) => r.contentType === 'application/merge-patch+json')).toBe(
      true,
    );
  });

  test('gives up after maxAttempts with KubernetesUnavailableError naming the last failure', async () => {
    server.failNext({ status: 503, message: 'etcdserver: leader changed' }, { count: 10 });
    const { client, sleeps } = setup();
    const error = await rejection(client.listServiceAccounts('demo'));
    expect(error).toBeInstanceOf(KubernetesUnavailableError);
    expect(error).toMatchObject({ status: 503, attempts: 4 });
    expect(error.message).toMatch(
      /gave up after 4 attempts; last: .*HTTP 503: etcdserver: leader changed/,
    );
    expect(server.requests).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 400]);
  });

  test('a Retry-After longer than the run may wait fails at once', async () => {
    server.failNext({ status: 429, retryAfter: '60' });
    const { client, sleeps } = setup();
    const error = await rejection(client.getServiceAccount('demo', 'sa'));
    expect(error).toBeInstanceOf(KubernetesUnavailableError);
    expect(error.message).toMatch(/retry after 60 s/);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test('retries a reset connection', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    server.failNext({ reset: true });
    const { client, notices } = setup();
    await expect(client.getServiceAccount('demo', 'sa')).resolves.toBeDefined();
    expect(notices.map((n) => n.cause)).toEqual(['ECONNRESET']);
    expect(server.requests.map((r) => r.status)).toEqual([0, 200]);
  });

  test('gives up on connections reset every time, after maxAttempts', async () => {
    server.failNext({ reset: true }, { count: 10 });
    const { client } = setup({ retry: { maxAttempts: 3 } });
    const error = await rejection(client.listServiceAccounts('demo'));
    expect(error).toBeInstanceOf(KubernetesUnavailableError);
    expect(error).toMatchObject({ status: undefined, attempts: 3 });
    expect(error.message).toMatch(/gave up after 3 attempts; last: ECONNRESET/);
    expect(server.requests).toHaveLength(3);
  });

  test('an answer slower than the timeout is abandoned and retried', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    server.failNext({ delayMs: 2_000 });
    const { client, notices } = setup({ timeoutMs: 200 });
    await expect(client.getServiceAccount('demo', 'sa')).resolves.toBeDefined();
    // The slow answer is abandoned; on a loaded machine a retry may time out too (it flaked with a
    // 100 ms timeout), so only the first notice is certain, and every notice is a timeout.
    expect(notices[0]?.cause).toBe('ETIMEDOUT');
    expect(new Set(notices.map((n) => n.cause))).toEqual(new Set(['ETIMEDOUT']));
    expect(server.requests.length).toBe(notices.length + 1);
  });

  test('retries with real timers by default', async () => {
    server.addServiceAccount({ namespace: 'demo', name: 'sa' });
    server.failNext({ status: 500 });
    const client = new KubernetesHttpClient({
      connection: async () => ({ server: server.url, caPem: server.caPem }),
      tokens: new ScriptedTokens([TOKEN]),
      retry: { baseDelayMs: 5 },
    });
    clients.push(client);
    await expect(client.getServiceAccount('demo', 'sa')).resolves.toBeDefined();
  });
});

describe('TLS', () => {
  test('refuses a server whose certificate the given CA did not sign, without retrying', async () => {
    const stranger = await createTestPki();
    const { client, sleeps } = setup({
      connection: async () => ({ server: server.url, caPem: stranger.caPem }),
    });
    const error = await rejection(client.listServiceAccounts('demo'));
    expect(error).toBeInstanceOf(KubernetesApiError);
    expect(error).not.toBeInstanceOf(KubernetesUnavailableError);
    expect(error.message).toMatch(/does not verify against the cluster CA/);
    expect(server.requests).toHaveLength(0);
    expect(sleeps).toEqual([]);
  });

  test('a failed connection lookup is not kept', async () => {
    let calls = 0;
    const { client } = setup({
      connection: async () => {
        calls += 1;
        if (calls === 1) throw new Error('DescribeCluster throttled');
        return { server: server.url, caPem: server.caPem };
      },
    });
    await expect(client.listServiceAccounts('demo')).rejects.toThrow('DescribeCluster throttled');
    await expect(client.listServiceAccounts('demo')).resolves.toEqual([]);
  });
});

describe('RBAC', () => {
  // Runs last: the server enforced KUBERNETES_RBAC_RULES for every test above.
  test('every request made in this file is covered by KUBERNETES_RBAC_RULES and every rule verb was used', () => {
    const accesses = seen.map(
      (r) => r.access as { apiGroup: string; resource: string; verb: string } | undefined,
    );
    expect(accesses.length).toBeGreaterThan(40);
    expect(accesses.filter((a) => a === undefined)).toEqual([]);
    const used = new Set(accesses.map((a) => `${a?.apiGroup}|${a?.resource}|${a?.verb}`));
    const granted = new Set(
      KUBERNETES_RBAC_RULES.flatMap((rule) =>
        rule.apiGroups.flatMap((g) =>
          rule.resources.flatMap((res) => rule.verbs.map((v) => `${g}|${res}|${v}`)),
        ),
      ),
    );
    expect([...used].filter((u) => !granted.has(u))).toEqual([]);
    expect([...granted].filter((g) => !used.has(g))).toEqual([]);
  });
});

describe("the job gate's identity (GATE_RBAC_RULES)", () => {
  test('reads the ServiceAccount of a Job; anything else is refused 403 by RBAC', async () => {
    server.rbacRules = GATE_RBAC_RULES;
    server.addServiceAccount({
      namespace: 'demo',
      name: 'app-backup-daily-1780000200',
      annotations: {
        'go.klusters.dev/seed-role-name': 'arn:aws:iam::111122223333:role/KubestashRole',
      },
    });
    const { client } = setup();
    await expect(
      client.getServiceAccount('demo', 'app-backup-daily-1780000200'),
    ).resolves.toMatchObject({
      annotations: {
        'go.klusters.dev/seed-role-name': 'arn:aws:iam::111122223333:role/KubestashRole',
      },
    });
    await expect(client.getServiceAccount('demo', 'not-yet-created')).resolves.toBeUndefined();
    await expect(client.listServiceAccounts('demo')).rejects.toBeInstanceOf(
      KubernetesForbiddenError,
    );
    await expect(
      client.patchServiceAccountAnnotations('demo', 'app-backup-daily-1780000200', { x: 'y' }),
    ).rejects.toBeInstanceOf(KubernetesForbiddenError);
  });
});
