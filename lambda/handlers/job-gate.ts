import { EKSClient } from '@aws-sdk/client-eks';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import { EventBridgePublisher } from '../adapters/eventbridge/event-bridge-publisher';
import { EksClusterConnector } from '../adapters/kubernetes/eks-cluster-connector';
import { eksKubernetesClient } from '../adapters/kubernetes/eks-kubernetes-client';
import { SecretsManagerGateTokens } from '../adapters/secrets-manager/secrets-manager-gate-tokens';
import { DetailType, EVENT_SOURCE } from '../events/reconcile-event';
import { admissionResponse, admissionReview } from '../gate/admission-review';
import { authenticatedCluster } from '../gate/gate-auth';
import type { TokenDigests } from '../gate/gate-auth';
import { gateJob, screenJob } from '../gate/gate-job';
import type { GateDecision, GatedJob, ServiceAccountLookup } from '../gate/gate-job';
import { readGateSettings } from '../gate/gate-settings';
import type { GateSettings } from '../gate/gate-settings';
import { GateTokenCache } from '../gate/gate-token-cache';
import type { EventPublisherPort } from '../ports/event-publisher-port';
import type { ServiceAccountReader } from '../ports/kubernetes-port';
import { GateMetric, JOB_GATE_SERVICE, METRICS_NAMESPACE } from '../ports/metric-names';
import { requiredEnv } from '../required-env';

/** What a Function URL handler returns when it sets the status and headers itself. */
export type GateReply = APIGatewayProxyStructuredResultV2;

/** Kubernetes sends small reviews; anything this large is not one. */
const MAX_BODY_BYTES = 1024 * 1024;
/** A rotated token is accepted within this; see docs/security.md for the rotation steps. */
const TOKEN_TTL_MS = 60_000;
/**
 * The answer to every request that does not carry its cluster's token: no
 * body, no headers that say what is here, nothing published, nothing logged
 * but a metric. 404 rather than 403 so a prober learns nothing about the path.
 */
export const REFUSED: GateReply = Object.freeze({ statusCode: 404 });
/** The hint is a courtesy: the API server is waiting, and the resync catches up anyway. */
const HINT_TIMEOUT_MS = 400;

export interface JobGateDeps {
  readonly settings: GateSettings;
  readonly publisher: EventPublisherPort;
  /** The accepted tokens of each cluster (see {@link GateTokenCache}). */
  readonly tokens: { current(): Promise<TokenDigests> };
  /** The Kubernetes API of a cluster the stack serves, as the gate's own (read-only) identity. */
  readonly serviceAccounts: (cluster: string) => ServiceAccountReader;
  /**
   * How long the gate may wait for a ServiceAccount, in ms; past it the Job
   * passes ungated. Well inside the webhook's timeoutSeconds (5 s by default).
   */
  readonly readBudgetMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Builds the Function URL handler that serves the mutating admission webhook.
 * First it authenticates the caller: a path without its cluster's token gets
 * {@link REFUSED} before the body is read. An authenticated review is never
 * denied: a Job it does not gate passes unchanged, and the only errors are
 * 400/405 for requests that are not AdmissionReviews. Its one side
 * effect, a `Job Gated` hint on the bus so the reconciler runs at once, is
 * skipped on dry-run and may fail without affecting the answer.
 */
export function createJobGateHandler(deps: JobGateDeps) {
  return async (event: LambdaFunctionURLEvent): Promise<GateReply> => {
    const cluster = authenticatedCluster(event.rawPath, await deps.tokens.current());
    if (cluster === undefined) {
      deps.metrics.addMetric(GateMetric.RequestsRefused, MetricUnit.Count, 1);
      return REFUSED;
    }
    if (event.requestContext.http.method !== 'POST') {
      return reply(405, { message: 'the job gate answers POSTed AdmissionReviews only' });
    }
    const raw = event.body ?? '';
    const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
      return reply(400, { message: 'request body too large for an AdmissionReview' });
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      deps.metrics.addMetric(GateMetric.MalformedReviews, MetricUnit.Count, 1);
      return reply(400, { message: 'request body is not JSON' });
    }
    const review = admissionReview.safeParse(json);
    if (!review.success) {
      deps.metrics.addMetric(GateMetric.MalformedReviews, MetricUnit.Count, 1);
      return reply(400, {
        message: `not an admission.k8s.io/v1 AdmissionReview: ${review.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')}`,
      });
    }

    const screened = screenJob(review.data, deps.settings);
    const decision: GateDecision =
      screened.gated === false
        ? screened
        : gateJob(review.data, deps.settings, {
            cluster,
            serviceAccount: await readServiceAccount(deps, cluster, screened.target),
          });
    if (!decision.gated) {
      if (decision.unread === true) {
        // The Job runs now, without waiting for a role: a first backup may fail its access check.
        deps.metrics.addMetric(GateMetric.ServiceAccountUnread, MetricUnit.Count, 1);
        deps.logger.warn('passed ungated', {
          uid: review.data.request.uid,
          reason: decision.reason,
        });
      } else {
        deps.logger.info('passed', { uid: review.data.request.uid, reason: decision.reason });
      }
      deps.metrics.addMetric(GateMetric.JobsPassed, MetricUnit.Count, 1);
      return reply(200, admissionResponse(review.data.request.uid, []));
    }
    const observing = deps.settings.observeOnly;
    deps.logger.info(observing ? 'would gate (observe-only: passed unchanged)' : 'gated', {
      uid: review.data.request.uid,
      cluster,
      ...decision.job,
    });
    deps.metrics.addMetric(
      observing ? GateMetric.JobsObserved : GateMetric.JobsGated,
      MetricUnit.Count,
      1,
    );
    // The hint still goes out: the reconciler grants the ServiceAccount as soon as it can.
    if (review.data.request.dryRun !== true) await hint(deps, cluster, decision.job);
    return reply(200, admissionResponse(review.data.request.uid, observing ? [] : decision.patch));
  };
}

/**
 * The Job's ServiceAccount, within the read budget. Any failure (unknown
 * cluster, timeout, refusal, API server down) is `unreadable`: the gate then
 * lets the Job pass rather than strand it.
 */
async function readServiceAccount(
  deps: JobGateDeps,
  cluster: string,
  job: GatedJob,
): Promise<ServiceAccountLookup> {
  if (deps.settings.clusterSeeds[cluster] === undefined) {
    return { kind: 'unreadable', reason: `cluster ${cluster} is not one this stack serves` };
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      deps.serviceAccounts(cluster).getServiceAccount(job.namespace, job.serviceAccount),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${deps.readBudgetMs} ms`)),
          deps.readBudgetMs,
        );
      }),
    ]);
    return found === undefined
      ? { kind: 'missing' }
      : { kind: 'found', annotations: found.annotations };
  } catch (error) {
    return { kind: 'unreadable', reason: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

async function hint(deps: JobGateDeps, cluster: string, job: GatedJob): Promise<void> {
  const seeds = deps.settings.clusterSeeds[cluster];
  if (seeds === undefined || job.name === '') {
    deps.logger.warn('no hint sent: the reconciler picks the Job up at its next resync', {
      cluster,
      job: job.name,
    });
    return;
  }
  const entries = seeds.map((seed) => ({
    Source: EVENT_SOURCE,
    DetailType: DetailType.jobGated,
    Detail: JSON.stringify({
      seed,
      cluster,
      namespace: job.namespace,
      job: job.name,
      serviceAccount: job.serviceAccount,
    }),
  }));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      deps.publisher.publish(entries),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer in ${HINT_TIMEOUT_MS} ms`)),
          HINT_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (error) {
    deps.metrics.addMetric(GateMetric.HintsFailed, MetricUnit.Count, 1);
    deps.logger.warn('hint not sent: the reconciler picks the Job up at its next resync', {
      error: (error as Error).message,
    });
  } finally {
    clearTimeout(timer);
  }
}

function reply(statusCode: number, body: unknown): GateReply {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

// Created once per module, so warm invocations reuse the client and its connections.
const logger = new Logger({ serviceName: 'kubestash-irsa-job-gate' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: JOB_GATE_SERVICE });
let built: ReturnType<typeof createJobGateHandler> | undefined;

/** Default read budget: a warm read takes milliseconds; a cold one adds DescribeCluster and a token. */
const READ_BUDGET_MS = 2000;

export const handler = async (event: LambdaFunctionURLEvent): Promise<GateReply> => {
  if (built === undefined) {
    const settings = readGateSettings(process.env);
    const budget = Number(process.env.SERVICE_ACCOUNT_READ_BUDGET_MS ?? READ_BUDGET_MS);
    const tokens = new GateTokenCache({
      store: new SecretsManagerGateTokens(new SecretsManagerClient({ maxAttempts: 2 })),
      secrets: settings.clusterTokenSecrets,
      ttlMs: TOKEN_TTL_MS,
      now: () => Date.now(),
      onProblem: (problem) => logger.error('gate tokens', { ...problem }),
    });
    built = createJobGateHandler({
      settings,
      tokens,
      publisher: new EventBridgePublisher(new EventBridgeClient({ maxAttempts: 2 }), {
        eventBusName: requiredEnv('EVENT_BUS_NAME'),
        maxRetries: 1,
      }),
      serviceAccounts: serviceAccountReaders(budget),
      readBudgetMs: budget,
      logger,
      metrics,
    });
  }
  try {
    return await built(event);
  } finally {
    metrics.publishStoredMetrics();
  }
};

/**
 * One read-only Kubernetes client per cluster, kept for the container's life
 * so its EKS token is cached like the reconciler's.
 */
function serviceAccountReaders(budgetMs: number): (cluster: string) => ServiceAccountReader {
  const region = requiredEnv('AWS_REGION');
  const eks = new EKSClient({ maxAttempts: 2 });
  const connector = new EksClusterConnector(eks);
  const clients = new Map<string, ServiceAccountReader>();
  return (cluster) => {
    let client = clients.get(cluster);
    if (client === undefined) {
      client = eksKubernetesClient({
        clusterName: cluster,
        region,
        connector,
        credentials: () => eks.config.credentials(),
        // One quick retry at most: the API server is waiting on the gate.
        http: { timeoutMs: budgetMs, retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200 } },
      });
      clients.set(cluster, client);
    }
    return client;
  };
}
