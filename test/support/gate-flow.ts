import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { IAMClient } from '@aws-sdk/client-iam';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgePublisher } from '../../lambda/adapters/eventbridge/event-bridge-publisher';
import type { KubernetesHttpClient } from '../../lambda/adapters/kubernetes/kubernetes-http-client';
import type { createJobGateHandler } from '../../lambda/handlers/job-gate';
import { SEED_ROLE_ANNOTATION } from '../../lambda/ports/annotations';
import { DetailType, EVENT_SOURCE } from '../../lambda/events/reconcile-event';
import { GATE_PATH, trackedGate } from './gate-fixtures';
import { EventSourcePoller, FLOW_CLUSTER, createFlowReconciler } from './gate-flow-reconciler';
import type { EventSourceHooks } from './gate-flow-reconciler';
import type { GateWorkerData, GateWorkerRequest } from './gate-worker';
import { applyJsonPatch } from './json-patch';
import type { KubernetesTestServer } from './kubernetes-test-server';
import { startConnectedTestServer } from './kubernetes-test-server';
import { admissionReviewOf } from './kubestash-objects';
import type { KubestashObjects } from './kubestash-objects';
import { MotoPipeline, PIPELINE_BUS } from './moto-pipeline';
import { createSeedRole } from './moto-seed';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG, startMotoServer } from './moto-server';
import type {
  ReconcilerWorkerData,
  ReconcilerWorkerNote,
  ReconcilerWorkerRequest,
} from './reconciler-worker';
import { startWorkerThread } from './worker-thread';

const TOKEN = 'k8s-aws-v1.gate-flow';
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
  /**
   * Run the Lambda event source (the SQS poll) and the reconcile handler in a
   * worker thread with their own AWS clients and their own connection to the API
   * server (test/support/reconciler-worker.ts), as the reconciler is its own Lambda
   * in AWS, so they do not share an event loop with the API server (the Kubernetes
   * test server) while it stores a burst's Jobs. The bench does; tests keep it
   * in-process, where jest's module mocks and coverage see it.
   * @default false
   */
  readonly reconcilerThread?: boolean;
}

/** Where the API server sends a Job for review, in this process or in the gate's thread. */
interface GateEndpoint {
  answer(event: Parameters<ReturnType<typeof createJobGateHandler>>[0]): Promise<{
    body?: string;
  }>;
  /** Resolves once every hint the gate gave up waiting for (400 ms) has reached the bus. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** The Lambda event source and the reconcile handler, in this process or in the reconciler's thread. */
interface EventSource {
  /** FIFO batches until the queue is empty; returns how many. */
  drain(): Promise<number>;
  /** Polls (each batch as it comes) until `done()` holds; returns the batches. */
  pollUntil(done: () => boolean, timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

/** Something GateFlow started and stops (a moto, the API server, a client, a thread). */
interface Stoppable {
  stop(): Promise<void>;
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
    readonly server: KubernetesTestServer,
    private readonly publisher: EventBridgePublisher,
    private readonly gate: GateEndpoint,
    private readonly events: EventSource,
    /** In the order they started; stopped in reverse. */
    private readonly resources: readonly Stoppable[],
  ) {}

  /**
   * Starts the motos, the API server, the pipeline and the gate and
   * reconciler (in-process or in threads, see {@link GateFlowOptions}).
   * @throws what failed to start, once what had already started is stopped
   */
  static async start(options: GateFlowOptions = {}): Promise<GateFlow> {
    const started: Stoppable[] = [];
    try {
      return await GateFlow.startInto(started, options);
    } catch (error) {
      // The start's failure is the one to report; stopping what it left is best effort.
      await stopAll(started).catch(() => undefined);
      throw error;
    }
  }

  private static async startInto(
    started: Stoppable[],
    options: GateFlowOptions,
  ): Promise<GateFlow> {
    // IAM and STS in one moto, EventBridge and SQS in another: AWS's services do not queue
    // behind each other, one moto process does (one Python interpreter), and a burst's 50
    // PutEvents would otherwise delay the pass's IAM reads by their whole cost.
    const [moto, events] = await startAll([startMotoServer(), startMotoServer()], started);
    const { server, kube } = await startConnectedTestServer({ token: TOKEN });
    started.push(server, { stop: () => kube.close() });
    const apiServer = { url: server.url, caPem: server.caPem, token: TOKEN };
    await createSeedRole(new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint }), {
      allowedNamespaces: options.allowedNamespaces,
    });
    const pipeline = await MotoPipeline.create(events.endpoint, ['KubestashRole']);
    const publisher = new EventBridgePublisher(pipeline.events, { eventBusName: PIPELINE_BUS });
    const gate =
      options.gateThread === true
        ? await gateThread({ eventsEndpoint: events.endpoint, apiServer })
        : inProcessGate(publisher, kube);
    started.push(gate);
    // The hooks run only while the flow drains or polls, after it is built below.
    const hooks: EventSourceHooks & { onPass(): void } = {
      onPass: () => flow.passes++,
      onReceive: (ms) => flow.receiveMs.push(ms),
      onBatch: () => flow.noteReleases(),
    };
    const source =
      options.reconcilerThread === true
        ? await reconcilerThread(
            {
              motoEndpoint: moto.endpoint,
              eventsEndpoint: events.endpoint,
              queueUrl: pipeline.queueUrl,
              apiServer,
            },
            hooks,
          )
        : inProcessEventSource(
            new EventSourcePoller(
              pipeline,
              createFlowReconciler(moto.endpoint, kube, hooks.onPass),
              hooks,
            ),
          );
    started.push(source);
    const flow: GateFlow = new GateFlow(server, publisher, gate, source, [...started]);
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
          cluster: FLOW_CLUSTER,
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
        cluster: FLOW_CLUSTER,
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
    await this.gate.settle();
    return this.events.drain();
  }

  /**
   * The Lambda event source polling while the cluster works (admissions go on
   * meanwhile): each batch as it comes, until `done()` holds. Returns the batches.
   * @throws when not done within `timeoutMs`
   */
  pollUntil(done: () => boolean, timeoutMs = 300_000): Promise<number> {
    return this.events.pollUntil(done, timeoutMs);
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
    await stopAll(this.resources);
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

/**
 * Starts each of `starts` and adds those that started to `started` (so they are
 * stopped if this or a later start fails).
 * @throws the first start's failure, once all have settled
 */
async function startAll<T extends Stoppable>(
  starts: readonly Promise<T>[],
  started: Stoppable[],
): Promise<T[]> {
  const settled = await Promise.allSettled(starts);
  const up: T[] = [];
  for (const s of settled) if (s.status === 'fulfilled') up.push(s.value);
  started.push(...up);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return up;
}

/**
 * Stops `resources` in the reverse of their start order, each even when an earlier one failed.
 * @throws an AggregateError of every failure
 */
async function stopAll(resources: readonly Stoppable[]): Promise<void> {
  const errors: unknown[] = [];
  for (const r of [...resources].reverse()) {
    try {
      await r.stop();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'GateFlow: stopping failed');
}

/** The gate in this process, sharing the reconciler's API-server client (its own RBAC is tested with the adapter). */
function inProcessGate(publisher: EventBridgePublisher, kube: KubernetesHttpClient): GateEndpoint {
  const { gate, settle } = trackedGate(
    publisher,
    kube,
    new Logger({ logLevel: 'SILENT' }),
    new Metrics({ namespace: 'GateFlow', serviceName: 'gate-flow' }),
  );
  return { answer: (event) => gate(event), settle, stop: async () => {} };
}

/** The gate in its own worker thread (test/support/gate-worker.ts). */
async function gateThread(data: GateWorkerData): Promise<GateEndpoint> {
  const thread = await startWorkerThread<GateWorkerRequest>(
    'the gate thread',
    path.join(__dirname, 'gate-worker.ts'),
    data,
  );
  return {
    answer: async (event) => (await thread.ask({ event })) as { body?: string },
    settle: async () => {
      await thread.ask({ settle: true });
    },
    stop: () => thread.terminate(),
  };
}

/** The event source in this process: jest's module mocks and coverage see the handler. */
function inProcessEventSource(poller: EventSourcePoller): EventSource {
  return {
    drain: () => poller.drain(),
    pollUntil: (done, timeoutMs) => {
      const deadline = performance.now() + timeoutMs;
      return poller.pollWhile(() => {
        if (done()) return false;
        if (performance.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
        return true;
      });
    },
    stop: async () => {},
  };
}

/**
 * The event source and the reconcile handler in their own worker thread
 * (test/support/reconciler-worker.ts). Its notes reach `hooks` in order with
 * its answers, so a drain's passes and releases are counted when it resolves.
 */
async function reconcilerThread(
  data: ReconcilerWorkerData,
  hooks: EventSourceHooks & { onPass(): void },
): Promise<EventSource> {
  // While polling: looks at `done` after each of the thread's notes (one per poll at least).
  let polling: (() => void) | undefined;
  const thread = await startWorkerThread<ReconcilerWorkerRequest>(
    'the reconciler thread',
    path.join(__dirname, 'reconciler-worker.ts'),
    data,
    (n) => {
      const note = n as ReconcilerWorkerNote;
      if ('pass' in note) hooks.onPass();
      else if ('receiveMs' in note) hooks.onReceive(note.receiveMs);
      else hooks.onBatch();
      polling?.();
    },
  );
  return {
    drain: async () => (await thread.ask({ drain: true })) as number,
    pollUntil: async (done, timeoutMs) => {
      if (done()) return 0;
      const deadline = performance.now() + timeoutMs;
      let late = false;
      let stopped = false;
      polling = () => {
        if (stopped) return;
        late = performance.now() > deadline;
        if (!late && !done()) return;
        stopped = true;
        // A thread that exits fails the poll's own request; this one has nothing to add.
        thread.ask({ stop: true }).catch(() => undefined);
      };
      try {
        const batches = (await thread.ask({ poll: true })) as number;
        if (late) throw new Error(`not done within ${timeoutMs} ms`);
        return batches;
      } finally {
        polling = undefined;
      }
    },
    stop: () => thread.terminate(),
  };
}
