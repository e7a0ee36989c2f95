import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgePublisher } from '../../lambda/adapters/eventbridge/event-bridge-publisher';
import { IamAdapter } from '../../lambda/adapters/iam/iam-adapter';
import type { KubernetesHttpClient } from '../../lambda/adapters/kubernetes/kubernetes-http-client';
import { StsWebIdentity } from '../../lambda/adapters/sts/sts-web-identity';
import type { createJobGateHandler } from '../../lambda/handlers/job-gate';
import { SEED_ROLE_ANNOTATION } from '../../lambda/ports/annotations';
import { DetailType, EVENT_SOURCE } from '../../lambda/events/reconcile-event';
import { createReconcileHandler } from '../../lambda/handlers/reconcile';
import { reconcileSeed } from '../../lambda/reconciler/reconcile-seed';
import { GATE_PATH, trackedGate } from './gate-fixtures';
import { applyJsonPatch } from './json-patch';
import type { KubernetesTestServer } from './kubernetes-test-server';
import { startConnectedTestServer } from './kubernetes-test-server';
import { admissionReviewOf } from './kubestash-objects';
import type { KubestashObjects } from './kubestash-objects';
import type { GateWorkerData, GateWorkerReply, GateWorkerRequest } from './gate-worker';
import { MotoPipeline, PIPELINE_BUS, asSqsRecord } from './moto-pipeline';
import { createSeedRole } from './moto-seed';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG, startMotoServer } from './moto-server';
import type { MotoServer } from './moto-server';

const TOKEN = 'k8s-aws-v1.gate-flow';
const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/GATEFLOW';
const CLUSTER = 'prod-cluster';
const SEED_ARN = `arn:aws:iam::${MOTO_ACCOUNT}:role/KubestashRole`;
const FIXTURE = path.join(__dirname, '../fixtures/admission/kubestash-backup-job.json');

type Json = Record<string, unknown>;

/** The account the fixtures in test/fixtures/kubestash-objects name, played by moto's. */
const FIXTURE_ACCOUNT = '111122223333';

export interface GateFlowOptions {
  /** The seed's allowed namespaces (its tag). @default ['demo'] */
  readonly allowedNamespaces?: readonly string[];
  /**
   * Run the gate in a worker thread with its own clients (test/support/gate-worker.ts),
   * as its own Lambda runs apart from the reconciler in AWS, so a burst of admissions
   * does not take the reconcile handler's event loop. The bench does; tests keep the gate
   * in-process, where jest's module mocks and coverage see it.
   * @default false
   */
  readonly gateThread?: boolean;
}

/** Where the API server sends a Job for review, in this process or in the gate's thread. */
interface GateEndpoint {
  answer(event: Parameters<ReturnType<typeof createJobGateHandler>>[0]): Promise<{
    body?: string;
  }>;
  /** Resolves once every hint the gate gave up waiting for (400 ms) has reached the bus. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** What the API server made of a Job the gate reviewed. */
export interface Admission {
  /** The gate's patch held it (suspended, with the access check). */
  readonly gated: boolean;
  readonly answerMs: number;
}

/**
 * The whole gate story on this machine: KubeStash creates a ServiceAccount
 * and a Job; the API server sends the Job to the gate (the real handler) and
 * stores what its patch makes of it; the gate's hint goes through the bus and
 * the FIFO queue (moto); the real reconcile handler grants the role (moto
 * IAM), proves it with a TokenRequest token (moto STS) and releases the Job
 * on the Kubernetes test server. Only the API server and the Lambda runtime
 * are played by this class.
 */
export class GateFlow {
  private readonly admittedAt = new Map<string, number>();
  private readonly releasedAt = new Map<string, number>();
  /** Reconcile passes run so far (one per seed per batch at most, fewer when events coalesce). */
  passes = 0;
  /** Milliseconds each ReceiveMessage + DeleteMessageBatch of the poll took, in order (moto's cost grows with the queue's depth). */
  readonly receiveMs: number[] = [];

  private constructor(
    private readonly motos: readonly MotoServer[],
    readonly server: KubernetesTestServer,
    private readonly kube: KubernetesHttpClient,
    private readonly pipeline: MotoPipeline,
    private readonly gate: GateEndpoint,
    private readonly reconcile: ReturnType<typeof createReconcileHandler>,
    private readonly publisher: EventBridgePublisher,
  ) {}

  static async start(options: GateFlowOptions = {}): Promise<GateFlow> {
    // IAM and STS in one moto, EventBridge and SQS in another: AWS's services do not queue
    // behind each other, one moto process does (one Python interpreter), and a burst's 50
    // PutEvents would otherwise delay the pass's IAM reads by their whole cost.
    const [moto, events] = await Promise.all([startMotoServer(), startMotoServer()]);
    const { server, kube } = await startConnectedTestServer({ token: TOKEN });
    await createSeedRole(new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint }), {
      allowedNamespaces: options.allowedNamespaces,
    });
    const pipeline = await MotoPipeline.create(events.endpoint, ['KubestashRole']);
    const logger = new Logger({ logLevel: 'SILENT' });
    const metrics = new Metrics({ namespace: 'GateFlow', serviceName: 'gate-flow' });
    const publisher = new EventBridgePublisher(pipeline.events, { eventBusName: PIPELINE_BUS });
    const gate =
      options.gateThread === true
        ? gateThread({
            eventsEndpoint: events.endpoint,
            server: server.url,
            caPem: server.caPem,
            token: TOKEN,
          })
        : inProcessGate(publisher, kube, logger, metrics);
    const iam = new IamAdapter(new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint }));
    const webIdentity = new StsWebIdentity(
      new STSClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint }),
    );
    const reconcile = createReconcileHandler({
      env: {
        RECONCILER_SEEDS: [
          {
            name: 'KubestashRole',
            conditionOperator: 'StringLike',
            clusters: [
              {
                name: CLUSTER,
                issuer: ISSUER,
                providerArn: `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/${ISSUER}`,
              },
            ],
          },
        ],
        EMPTY_ROLE_GRACE_SECONDS: 3600,
        GATE_STUCK_AFTER_SECONDS: 1800,
        GATE_PROOF_ATTEMPTS: 10,
        GATE_PROOF_DELAY_MS: 3000,
      },
      reconcile: (seed, options) => {
        flow.passes++;
        return reconcileSeed(
          { iam, kubernetes: () => kube, webIdentity, now: () => new Date() },
          seed,
          options,
        );
      },
      logger,
      metrics,
    });
    const flow: GateFlow = new GateFlow(
      [moto, events],
      server,
      kube,
      pipeline,
      gate,
      reconcile,
      publisher,
    );
    return flow;
  }

  /** KubeStash starts a session: its ServiceAccount, then its Job through the admission webhook. */
  async createSession(name: string): Promise<Admission> {
    this.server.addServiceAccount({
      namespace: 'demo',
      name,
      annotations: { 'go.klusters.dev/seed-role-name': SEED_ARN },
    });
    const review = JSON.parse(
      fs
        .readFileSync(FIXTURE, 'utf8')
        .replaceAll('sample-backup-daemon-demo-session-1778072138', name),
    ) as { request: { object: Json } };
    return this.admit(review.request.object);
  }

  /**
   * A fixture's ServiceAccount appears in the cluster (its seed ARN moved to
   * moto's account; any other annotation as it is). With `announce`, the audit-log forwarder's event for it
   * is published too, as EKS's audit log brings it in AWS.
   */
  async createServiceAccount(objects: KubestashObjects, announce = false): Promise<void> {
    const { name, namespace, annotations } = objects.serviceAccount.metadata;
    this.server.addServiceAccount({
      namespace,
      name,
      annotations: Object.fromEntries(
        Object.entries(annotations ?? {}).map(([k, v]) => [
          k,
          k === SEED_ROLE_ANNOTATION ? v.replace(`::${FIXTURE_ACCOUNT}:`, `::${MOTO_ACCOUNT}:`) : v,
        ]),
      ),
    });
    if (!announce) return;
    await this.publisher.publish([
      {
        Source: EVENT_SOURCE,
        DetailType: DetailType.serviceAccountChanged,
        Detail: JSON.stringify({
          seed: 'KubestashRole',
          cluster: CLUSTER,
          namespace,
          name,
          operation: 'create',
        }),
      },
    ]);
  }

  /** A fixture's Job through the admission webhook, stored as the gate's patch left it. */
  async admitJob(objects: KubestashObjects): Promise<Admission> {
    if (objects.job === undefined) throw new Error(`${objects.file} has no Job`);
    return this.admit(objects.job);
  }

  /**
   * The API server's part: send the Job to the gate (the real handler), store
   * what its patch makes of it, and note when it was admitted.
   */
  private async admit(object: Json): Promise<Admission> {
    const review = admissionReviewOf(object);
    const request = review.request as { object: Json };
    const metadata = object.metadata as { name: string; namespace: string };
    const started = performance.now();
    const reply = await this.gate.answer({
      version: '2.0',
      routeKey: '$default',
      rawPath: GATE_PATH,
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      body: JSON.stringify(review),
      requestContext: { http: { method: 'POST' } },
    } as Parameters<GateEndpoint['answer']>[0]);
    const answerMs = performance.now() - started;
    const response = (JSON.parse(String(reply.body)) as { response: { patch?: string } }).response;
    const patch =
      response.patch === undefined
        ? []
        : (JSON.parse(Buffer.from(response.patch, 'base64').toString()) as unknown[]);
    const job = applyJsonPatch(request.object, patch) as {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: { suspend?: boolean; template: { spec: { serviceAccountName: string } } };
    };
    // Only a held Job waits for a release; the others ran from their admission on. It is
    // admitted when the API server stores it, after the gate answered (answerMs, measured apart).
    if (patch.length > 0) this.admittedAt.set(metadata.name, performance.now());
    // The API server stores the Job as the webhook's patch left it.
    this.server.addJob({
      namespace: metadata.namespace,
      name: metadata.name,
      labels: job.metadata.labels,
      annotations: job.metadata.annotations,
      suspend: job.spec.suspend === true,
      serviceAccountName: job.spec.template.spec.serviceAccountName,
    });
    return { gated: patch.length > 0, answerMs };
  }

  /**
   * `count` Job Gated hints for the seed straight onto the bus, ten per
   * PutEvents call and `parallel` calls at a time, naming Jobs that do not
   * exist: what a flood of admissions (or anyone allowed events:PutEvents on
   * the bus) puts in front of a real Job.
   */
  async floodHints(count: number, parallel = 10): Promise<void> {
    const entries = Array.from({ length: count }, (_, i) => ({
      Source: EVENT_SOURCE,
      DetailType: DetailType.jobGated,
      Detail: JSON.stringify({
        seed: 'KubestashRole',
        cluster: CLUSTER,
        namespace: 'demo',
        job: `flood-${i}`,
        serviceAccount: `flood-${i}`,
      }),
    }));
    const calls: (typeof entries)[] = [];
    for (let i = 0; i < entries.length; i += 10) calls.push(entries.slice(i, i + 10));
    for (let i = 0; i < calls.length; i += parallel) {
      await Promise.all(calls.slice(i, i + parallel).map((c) => this.publisher.publish(c)));
    }
  }

  /** The Lambda event source: FIFO batches of up to ten, until the queue is empty. */
  async drain(): Promise<number> {
    let batches = 0;
    await this.gate.settle();
    for (;;) {
      const messages = await this.receive();
      if (messages.length === 0) return batches;
      await this.handleBatch(messages);
      batches++;
    }
  }

  /**
   * The Lambda event source polling while the cluster works (admissions go on
   * meanwhile): each batch as it comes, until `done()` holds. Returns the batches.
   */
  async pollUntil(done: () => boolean, timeoutMs = 300_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let batches = 0;
    while (!done()) {
      if (performance.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
      // Short polls 20 ms apart: moto's long poll holds the queue's lock and slowed its deliveries.
      const messages = await this.receive();
      if (messages.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      await this.handleBatch(messages);
      batches++;
    }
    return batches;
  }

  private async receive(waitSeconds = 0): ReturnType<MotoPipeline['receive']> {
    const started = performance.now();
    const messages = await this.pipeline.receive(waitSeconds);
    this.receiveMs.push(performance.now() - started);
    return messages;
  }

  private async handleBatch(messages: Awaited<ReturnType<MotoPipeline['receive']>>): Promise<void> {
    const out = await this.reconcile({ Records: messages.map(asSqsRecord) });
    if (out.batchItemFailures.length > 0) throw new Error('a reconcile batch failed');
    this.noteReleases();
  }

  suspended(name: string, namespace = 'demo'): boolean {
    const job = this.server.job(namespace, name) as { spec: { suspend: boolean } } | undefined;
    return job?.spec.suspend ?? true;
  }

  /** Milliseconds from admission to release of one Job, undefined while it is held. */
  waitOf(name: string): number | undefined {
    const released = this.releasedAt.get(name);
    const admitted = this.admittedAt.get(name);
    return released === undefined || admitted === undefined ? undefined : released - admitted;
  }

  /** Milliseconds from admission to release, for each released Job. */
  waits(): number[] {
    return [...this.releasedAt].map(([name, at]) => at - (this.admittedAt.get(name) ?? at));
  }

  async stop(): Promise<void> {
    await this.gate.close();
    await this.kube.close();
    await this.server.stop();
    await Promise.all(this.motos.map((m) => m.stop()));
  }

  /**
   * Each admitted Job found unsuspended is released at the moment the API
   * server received the write that unsuspended it (the reconciler's, or
   * KubeStash's), not when its batch ended.
   */
  private noteReleases(): void {
    for (const name of this.admittedAt.keys()) {
      if (this.releasedAt.has(name) || this.suspended(name)) continue;
      const path = `/apis/batch/v1/namespaces/demo/jobs/${name}`;
      const write = this.server.requests.find(
        (r) =>
          r.method === 'PATCH' &&
          r.path === path &&
          r.status === 200 &&
          (r.body as { spec?: { suspend?: boolean } } | undefined)?.spec?.suspend === false,
      );
      this.releasedAt.set(name, write?.receivedAt ?? performance.now());
    }
  }
}

/** The gate in this process, sharing the reconciler's API-server client (its own RBAC is tested with the adapter). */
function inProcessGate(
  publisher: EventBridgePublisher,
  kube: KubernetesHttpClient,
  logger: Logger,
  metrics: Metrics,
): GateEndpoint {
  const { gate, settle } = trackedGate(publisher, kube, logger, metrics);
  return { answer: (event) => gate(event), settle, close: async () => {} };
}

/** Each member of a union without its `id`. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The gate in its own worker thread (test/support/gate-worker.ts), loaded through tsx. */
function gateThread(data: GateWorkerData): GateEndpoint {
  const file = path.join(__dirname, 'gate-worker.ts');
  // An eval'd worker resolves modules from the working directory: name tsx's file exactly.
  const tsx = JSON.stringify(require.resolve('tsx/cjs'));
  const worker = new Worker(`require(${tsx}); require(${JSON.stringify(file)});`, {
    eval: true,
    workerData: data,
  });
  const waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  worker.on('message', (m: GateWorkerReply) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(`gate thread: ${m.error}`));
    else w?.resolve(m.reply);
  });
  const failAll = (error: Error) => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the gate thread exited (${code})`)));
  const ask = (request: WithoutId<GateWorkerRequest>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...request });
    });
  return {
    answer: async (event) => (await ask({ event })) as { body?: string },
    settle: async () => {
      await ask({ settle: true });
    },
    close: async () => {
      await worker.terminate();
    },
  };
}
