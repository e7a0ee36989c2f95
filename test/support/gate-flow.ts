import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgePublisher } from '../../lambda/adapters/eventbridge/event-bridge-publisher';
import { IamAdapter } from '../../lambda/adapters/iam/iam-adapter';
import { KubernetesHttpClient } from '../../lambda/adapters/kubernetes/kubernetes-http-client';
import { KUBERNETES_RBAC_RULES } from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import { StsWebIdentity } from '../../lambda/adapters/sts/sts-web-identity';
import { createJobGateHandler } from '../../lambda/handlers/job-gate';
import { DetailType, EVENT_SOURCE } from '../../lambda/events/reconcile-event';
import { createReconcileHandler } from '../../lambda/handlers/reconcile';
import { reconcileSeed } from '../../lambda/reconciler/reconcile-seed';
import { GATE_PATH, SETTINGS, fixtureTokens } from './gate-fixtures';
import { applyJsonPatch } from './json-patch';
import { KubernetesTestServer } from './kubernetes-test-server';
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

  private constructor(
    private readonly moto: MotoServer,
    readonly server: KubernetesTestServer,
    private readonly kube: KubernetesHttpClient,
    private readonly pipeline: MotoPipeline,
    private readonly gate: ReturnType<typeof createJobGateHandler>,
    private readonly reconcile: ReturnType<typeof createReconcileHandler>,
    private readonly publisher: EventBridgePublisher,
  ) {}

  static async start(): Promise<GateFlow> {
    const moto = await startMotoServer();
    const server = await new KubernetesTestServer({
      acceptToken: TOKEN,
      rbacRules: KUBERNETES_RBAC_RULES,
    }).start();
    const kube = new KubernetesHttpClient({
      connection: async () => ({ server: server.url, caPem: server.caPem }),
      tokens: { token: async () => TOKEN, invalidate: () => {} },
    });
    await createSeedRole(new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint }));
    const pipeline = await MotoPipeline.create(moto.endpoint, ['KubestashRole']);
    const logger = new Logger({ logLevel: 'SILENT' });
    const metrics = new Metrics({ namespace: 'GateFlow', serviceName: 'gate-flow' });
    const publisher = new EventBridgePublisher(pipeline.events, { eventBusName: PIPELINE_BUS });
    const gate = createJobGateHandler({
      settings: SETTINGS,
      tokens: fixtureTokens(),
      publisher,
      // One API server plays the cluster for both; the gate's own RBAC is tested with the adapter.
      serviceAccounts: () => kube,
      readBudgetMs: 2000,
      logger,
      metrics,
    });
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
    const flow: GateFlow = new GateFlow(moto, server, kube, pipeline, gate, reconcile, publisher);
    return flow;
  }

  /** KubeStash starts a session: its ServiceAccount, then its Job through the admission webhook. */
  async createSession(name: string): Promise<{ gated: boolean; answerMs: number }> {
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
    const started = performance.now();
    this.admittedAt.set(name, started);
    const reply = await this.gate({
      version: '2.0',
      routeKey: '$default',
      rawPath: GATE_PATH,
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      body: JSON.stringify(review),
      requestContext: { http: { method: 'POST' } },
    } as Parameters<typeof this.gate>[0]);
    const answerMs = performance.now() - started;
    const response = (JSON.parse(String(reply.body)) as { response: { patch?: string } }).response;
    const patch =
      response.patch === undefined
        ? []
        : (JSON.parse(Buffer.from(response.patch, 'base64').toString()) as unknown[]);
    const job = applyJsonPatch(review.request.object, patch) as {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: { suspend?: boolean; template: { spec: { serviceAccountName: string } } };
    };
    // The API server stores the Job as the webhook's patch left it.
    this.server.addJob({
      namespace: 'demo',
      name,
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
    for (;;) {
      const messages = await this.pipeline.receive();
      if (messages.length === 0) return batches;
      const out = await this.reconcile({ Records: messages.map(asSqsRecord) });
      if (out.batchItemFailures.length > 0) throw new Error('a reconcile batch failed');
      batches++;
      this.noteReleases();
    }
  }

  suspended(name: string): boolean {
    const job = this.server.job('demo', name) as { spec: { suspend: boolean } } | undefined;
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
    await this.kube.close();
    await this.server.stop();
    await this.moto.stop();
  }

  private noteReleases(): void {
    for (const name of this.admittedAt.keys()) {
      if (!this.releasedAt.has(name) && !this.suspended(name)) {
        this.releasedAt.set(name, performance.now());
      }
    }
  }
}
