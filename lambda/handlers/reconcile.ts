import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type {
  SQSBatchItemFailure,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import { EksPodIdentityAdapter } from '../adapters/eks/eks-pod-identity-adapter';
import { IamAdapter } from '../adapters/iam/iam-adapter';
import { EksClusterConnector } from '../adapters/kubernetes/eks-cluster-connector';
import { eksKubernetesClient } from '../adapters/kubernetes/eks-kubernetes-client';
import { StsWebIdentity } from '../adapters/sts/sts-web-identity';
import { DetailType, queuedEventSchema } from '../events/reconcile-event';
import type { QueuedEventBody } from '../events/reconcile-event';
import type { KubernetesPort } from '../ports/kubernetes-port';
import { PassLedger, answeredBy } from '../reconciler/pass-coalescing';

const SECOND_MS = 1_000;
import type { QueuedEvent, QueuedKind } from '../reconciler/pass-coalescing';
import { answerHints } from '../reconciler/hint-watch';
import { reconcilePodIdentitySeed } from '../reconciler/reconcile-pod-identity-seed';
import type { PodIdentityResult } from '../reconciler/reconcile-pod-identity-seed';
import { reconcileSeed } from '../reconciler/reconcile-seed';
import type { ReconcileOptions, ReconcileResult } from '../reconciler/reconcile-seed';
import { gateReleaseOptions, readReconcilerEnv } from '../reconciler/reconciler-settings';
import type { ReconcilerEnv, SeedEnv } from '../reconciler/reconciler-settings';
import { policyFill } from '../domain/policy-size';
import {
  CLUSTER_DIMENSION,
  METRICS_NAMESPACE,
  REASON_DIMENSION,
  RECONCILER_SERVICE,
  ReconcilerMetric,
  SEED_DIMENSION,
} from '../ports/metric-names';
import { REPORTED_REFUSAL_REASONS } from '../reconciler/reconcile-seed';
import { requiredEnv } from '../required-env';

export interface ReconcileHandlerDeps {
  readonly env: ReconcilerEnv;
  readonly reconcile: (seed: SeedEnv, options: ReconcileOptions) => Promise<ReconcileResult>;
  /** The pass of a seed in pod-identity mode (docs/pod-identity.md); needed only when such a seed is configured. */
  readonly reconcilePodIdentity?: (
    seed: SeedEnv,
    options: ReconcileOptions,
  ) => Promise<PodIdentityResult>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The SQS FIFO consumer. Each message only says which seed to look at; a seed
 * is reconciled once per batch however many of its events the batch holds
 * (one write per touched role). On a failure the failed message and every
 * later one are returned, as FIFO ordering requires. A malformed message is
 * logged and dropped: retrying it could never succeed and would block its group.
 *
 * Events coalesce before and across batches too: the queue keeps one message
 * per seed, kind and second (lib/reconcile-queue.ts), and a message that the
 * last completed pass or look of its seed already answered is dropped without
 * a pass ({@link PassLedger}). Job Gated hints are answered by looking at the
 * Jobs the gate holds, with a pass at once only for one no pass has judged
 * (hint-watch.ts), so a flood of hints costs looks, not passes. For other
 * events an idle seed's pass starts at once; only the events it could not
 * answer by time cost a second pass after a wait (see pass-coalescing.ts).
 */
export function createReconcileHandler(deps: ReconcileHandlerDeps) {
  const seeds = new Map(deps.env.RECONCILER_SEEDS.map((s) => [s.name, s]));
  const names = [...seeds.keys()].sort();
  const gate = gateReleaseOptions(deps.env);
  const podIdentityClusters = deps.env.RECONCILER_SEEDS.filter(
    (s) => s.mode === 'pod-identity',
  ).flatMap((s) => s.clusters.map((c) => c.name));
  const ledger = new PassLedger();
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const done = new Set<string>();
    const failures: SQSBatchItemFailure[] = [];
    const read = event.Records.map((record) => ({
      record,
      queued: eventOf(record, now()),
    }));
    let coalesced = 0;
    for (const { record, queued } of read) {
      if (failures.length > 0) {
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      const seed = queued === undefined ? undefined : seeds.get(queued.seed);
      if (queued === undefined || seed === undefined) {
        deps.logger.error('dropping a message that names no configured seed', {
          messageId: record.messageId,
          seed: queued?.seed,
          body: record.body.slice(0, 500),
        });
        deps.metrics
          .singleMetric()
          .addMetric(ReconcilerMetric.MalformedEvents, MetricUnit.Count, 1);
        continue;
      }
      if (done.has(seed.name)) continue;
      if (ledger.answered(seed.name, queued)) {
        coalesced++;
        continue;
      }
      const pending = read
        .map((r) => r.queued)
        .filter(
          (r): r is NonNullable<typeof r> =>
            r !== undefined && r.seed === seed.name && !ledger.answered(seed.name, r),
        );
      try {
        await passesFor(seed, pending);
        done.add(seed.name);
      } catch (error) {
        deps.logger.error('reconcile failed; the message returns to the queue', {
          seed: seed.name,
          error,
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    if (coalesced > 0) {
      deps.metrics
        .singleMetric()
        .addMetric(ReconcilerMetric.EventsCoalesced, MetricUnit.Count, coalesced);
    }
    return { batchItemFailures: failures };
  };

  /**
   * What answers a seed's `pending` messages: Job Gated hints by looking at
   * the Jobs the gate holds, with a pass only for one not yet judged
   * (hint-watch.ts); other events by a pass at once when the seed may run at
   * once (idle, or its last such pass answered everything), and one after the
   * wait (≤ 2 s) for those that pass could not answer by time.
   */
  async function passesFor(seed: SeedEnv, pending: readonly QueuedEvent[]): Promise<void> {
    const hints = pending.filter((e) => e.kind === 'jobGated' && e.time !== undefined);
    const others = pending.filter((e) => !hints.includes(e));
    if (others.length > 0) await eventPasses(seed, others);
    if (hints.length > 0) {
      const cost = await answerHints(
        { ledger, now, sleep, pass: async (start) => void (await pass(seed, start)) },
        seed.name,
        hints,
      );
      if (cost.lookFailure !== undefined) {
        deps.logger.warn(
          'could not look at the Jobs the gate holds; answered the hints with a pass instead',
          {
            seed: seed.name,
            error: cost.lookFailure,
          },
        );
      }
    }
    ledger.remember(
      seed.name,
      pending.map((e) => e.id),
    );
  }

  async function eventPasses(seed: SeedEnv, pending: readonly QueuedEvent[]): Promise<void> {
    let unanswered = pending;
    if (ledger.runsAtOnce(seed.name, now())) {
      const start = now();
      await pass(seed, start);
      unanswered = pending.filter((e) => !answeredBy(e, start));
      ledger.answeredAll(seed.name, unanswered.length === 0);
      if (unanswered.length === 0) return;
    }
    // Wait until this pass answers every event of the seed still unanswered (≤ 2 s).
    const wait = ledger.waitBefore(
      now(),
      unanswered.map((e) => e.time),
    );
    if (wait > 0) await sleep(wait);
    await pass(seed, now());
  }

  async function pass(seed: SeedEnv, start: number): Promise<void> {
    const options: ReconcileOptions = {
      emptyRoleGracePeriodSeconds: deps.env.EMPTY_ROLE_GRACE_SECONDS,
      otherSeeds: names.filter((n) => n !== seed.name),
      reportUnknownSeeds: seed.name === names[0],
      watchedNamespaces: deps.env.WATCHED_NAMESPACES,
      gate,
      ...(podIdentityClusters.length === 0 ? {} : { podIdentityClusters }),
    };
    if (seed.mode === 'pod-identity') {
      if (deps.reconcilePodIdentity === undefined) {
        throw new Error(
          `seed ${seed.name} is in pod-identity mode but this handler was built without reconcilePodIdentity`,
        );
      }
      const identity = await deps.reconcilePodIdentity(seed, options);
      reportPodIdentity(deps, seed.name, identity);
      ledger.completed(seed.name, start, identity.gateJobs);
      return;
    }
    const result = await deps.reconcile(seed, options);
    report(deps, seed.name, result, now() - start);
    // Granted what it could, but a role it needs was not created: the message returns to the
    // queue (and the pass answers nothing), so the next run tries again.
    if (result.retryLater !== undefined) throw new Error(result.retryLater);
    ledger.completed(seed.name, start, result.gateJobs);
  }
}

/**
 * The seed an SQS body names (`queuedEventSchema`), and what tells which pass
 * answers it: its kind, its time in epoch ms (undefined if unreadable) and
 * the message's id. The time is EventBridge's `time`, but when that is more
 * than a second after SQS received the message (`SentTimestamp`, epoch ms,
 * set by SQS) the receipt instead, and never later than `now`: PutEvents lets
 * its caller set `Time`
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html),
 * and an event cannot have been published after it reached the queue. So a
 * forged future `Time` neither makes a pass wait nor escapes the answer that
 * covers the moment it really arrived.
 */
function eventOf(
  record: SQSRecord,
  now: number,
): (QueuedEvent & { readonly seed: string }) | undefined {
  let json: unknown;
  try {
    json = JSON.parse(record.body);
  } catch {
    return undefined;
  }
  const parsed = queuedEventSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const event = parsed.data;
  const stamped = event.time === undefined ? Number.NaN : Date.parse(event.time);
  // Absent only where a test builds the record by hand; the event source always sets it.
  const sentAttribute = (record.attributes as Partial<SQSRecordAttributes> | undefined)
    ?.SentTimestamp;
  const sent = /^\d+$/.test(sentAttribute ?? '') ? Number(sentAttribute) : Number.NaN;
  // A stamp more than a second after SQS received the message is forged (or its clock is
  // far off): read the receipt instead. Within a second, the stamp stands, so two hosts'
  // clocks cannot move a hint into the second before its own.
  const received = Number.isNaN(sent) || stamped <= sent + SECOND_MS ? stamped : sent;
  const time = Math.min(received, now);
  return {
    seed: event.detail.seed,
    kind: KIND_OF[event['detail-type']],
    id: record.messageId,
    ...(Number.isNaN(stamped) ? {} : { time }),
  };
}

const KIND_OF: Readonly<Record<QueuedEventBody['detail-type'], QueuedKind>> = {
  [DetailType.jobGated]: 'jobGated',
  [DetailType.serviceAccountChanged]: 'serviceAccountChanged',
  [DetailType.resync]: 'resync',
};

function report(
  deps: ReconcileHandlerDeps,
  seed: string,
  r: ReconcileResult,
  durationMs: number,
): void {
  deps.logger.info('reconciled', {
    seed,
    created: r.created,
    updated: r.updated,
    deleted: r.deleted,
    annotated: r.annotated,
    refused: r.plan.refusals.length,
    derivedRoles: r.derivedRoles,
    quota: r.plan.quota,
    durationMs,
    notes: r.plan.notes,
    warnings: r.warnings,
    // aws-credential-manager's roles the pass skipped, and the grants it left to them (docs/migration.md).
    ...(r.managerRoles === undefined
      ? {}
      : { managerRoles: r.managerRoles, leftToManager: r.leftToManager }),
    ...(r.jobs === undefined ? {} : { jobs: r.jobs }),
  });
  for (const refusal of r.plan.refusals) {
    deps.logger.warn('refused', { seed, ...refusal });
  }
  // A single-metric instance flushes (and forgets its dimensions) on each metric: one per value.
  const emit = (
    name: string,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
    reason?: string,
  ) => {
    const metric = deps.metrics.singleMetric();
    metric.addDimension(SEED_DIMENSION, seed);
    if (reason !== undefined) metric.addDimension(REASON_DIMENSION, reason);
    metric.addMetric(name, unit, value);
  };
  const M = ReconcilerMetric;
  emit(M.DerivedRoleUtilization, MetricUnit.Percent, (100 * r.derivedRoles) / r.roleCreationLimit);
  emit(M.DerivedRoles, MetricUnit.Count, r.derivedRoles);
  emit(M.TrustPolicyFill, MetricUnit.Percent, fullestTrustPolicy(r));
  emit(M.ServiceAccountsGranted, MetricUnit.Count, r.plan.assignments.length);
  emit(M.Refusals, MetricUnit.Count, r.plan.refusals.length);
  // Every reason, 0 included, so each graph line is continuous.
  for (const reason of REPORTED_REFUSAL_REASONS) {
    emit(M.RefusedServiceAccounts, MetricUnit.Count, r.refusedByReason[reason] ?? 0, reason);
  }
  emit(M.IamWrites, MetricUnit.Count, r.created + r.updated + r.deleted);
  emit(M.ReconcileDuration, MetricUnit.Milliseconds, durationMs);
  if (r.jobs !== undefined) {
    emit(M.JobsReleased, MetricUnit.Count, r.jobs.released);
    emit(M.JobsHeld, MetricUnit.Count, r.jobs.held);
    emit(M.JobsStuck, MetricUnit.Count, r.jobs.stuck);
  }
  if (r.takenRoleNames !== undefined) {
    deps.logger.error('derived role names taken by foreign roles', {
      seed,
      roles: r.takenRoleNames,
    });
    emit(M.DerivedRoleNamesTaken, MetricUnit.Count, r.takenRoleNames.length);
  }
  for (const u of r.unreachableClusters) {
    // One line per cluster and pass, and no Kubernetes Event: there is nowhere to record it.
    deps.logger.error('cluster API server unreachable', {
      seed,
      cluster: u.cluster,
      code: u.code,
      likelyCause: u.likelyCause,
      error: u.message,
      kept: 'its ServiceAccounts keep their roles; nothing there was annotated or released',
    });
    const metric = deps.metrics.singleMetric();
    metric.addDimension(CLUSTER_DIMENSION, u.cluster);
    metric.addMetric(M.ClusterUnreachable, MetricUnit.Count, 1);
  }
  if (r.roleQuotaExceeded !== undefined) {
    deps.logger.error('IAM roles quota reached', { seed, iam: r.roleQuotaExceeded });
    emit(M.RoleQuotaExceeded, MetricUnit.Count, 1);
  }
}

/** Percent of the trust-policy quota the fullest derived role uses after the pass; 0 without roles. */
function fullestTrustPolicy(r: ReconcileResult): number {
  const kept = r.plan.roles.filter((role) => role.state !== 'delete');
  return Math.max(0, ...kept.map((role) => policyFill(role.size, role.quota)));
}

function reportPodIdentity(deps: ReconcileHandlerDeps, seed: string, r: PodIdentityResult): void {
  deps.logger.info('reconciled', {
    seed,
    mode: 'pod-identity',
    associationsCreated: r.created,
    associationsDeleted: r.deleted,
    annotated: r.annotated,
    refused: r.plan.refusals.length,
    raced: r.raced,
    settleWaitMs: r.settleWaitMs,
    warnings: r.warnings,
    ...(r.jobs === undefined ? {} : { jobs: r.jobs }),
  });
  for (const refusal of r.plan.refusals) deps.logger.warn('refused', { seed, ...refusal });
  const emit = (
    name: string,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
  ) => {
    const metric = deps.metrics.singleMetric();
    metric.addDimension('Seed', seed);
    metric.addMetric(name, unit, value);
  };
  emit('ServiceAccountsGranted', MetricUnit.Count, r.plan.granted.length + r.created);
  emit('Refusals', MetricUnit.Count, r.plan.refusals.length);
  emit('EksWrites', MetricUnit.Count, r.created + r.deleted);
  const quotaRefusals =
    r.plan.refusals.filter((x) => x.reason === 'AssociationQuotaReached').length +
    r.quotaReached.length;
  if (quotaRefusals > 0) {
    deps.logger.error('Pod Identity association quota reached', {
      seed,
      clusters: [...new Set([...r.quotaReached, ...r.plan.refusals.map((x) => x.cluster)])],
    });
    emit('AssociationQuotaReached', MetricUnit.Count, quotaRefusals);
  }
  if (r.jobs !== undefined) {
    emit('JobsReleased', MetricUnit.Count, r.jobs.released);
    emit('JobsHeld', MetricUnit.Count, r.jobs.held);
  }
  for (const u of r.unreachableClusters) {
    deps.logger.error('cluster API server unreachable', { seed, ...u });
    const metric = deps.metrics.singleMetric();
    metric.addDimension('Cluster', u.cluster);
    metric.addMetric('ClusterUnreachable', MetricUnit.Count, 1);
  }
}

// Created once per module: warm invocations reuse clients, tokens and connections.
const logger = new Logger({ serviceName: 'reconciler' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: RECONCILER_SERVICE });
let built: ReturnType<typeof createReconcileHandler> | undefined;

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  if (built === undefined) {
    const env = readReconcilerEnv(process.env);
    const region = requiredEnv('AWS_REGION');
    // Bounded connects: from subnets without a route to an AWS API a call fails in seconds
    // (and says so in the log) instead of hanging until the Lambda times out.
    const requestHandler = { connectionTimeout: 3000, requestTimeout: 20000 };
    const eks = new EKSClient({ maxAttempts: 5, requestHandler });
    const connector = new EksClusterConnector(eks);
    const clusters = new Map<string, KubernetesPort>();
    const kubernetes = (name: string): KubernetesPort => {
      let client = clusters.get(name);
      if (client === undefined) {
        client = eksKubernetesClient({
          clusterName: name,
          region,
          connector,
          credentials: () => eks.config.credentials(),
        });
        clusters.set(name, client);
      }
      return client;
    };
    // AssumeRoleWithWebIdentity is authorized by the token alone: this client signs nothing that matters.
    const webIdentity = new StsWebIdentity(new STSClient({ maxAttempts: 3, requestHandler }));
    const iam = new IamAdapter(
      new IAMClient({ maxAttempts: 8, retryMode: 'adaptive', requestHandler }),
    );
    const podIdentity = new EksPodIdentityAdapter(eks);
    built = createReconcileHandler({
      env,
      reconcile: (seed, options) =>
        reconcileSeed({ iam, kubernetes, webIdentity, now: () => new Date() }, seed, options),
      reconcilePodIdentity: (seed, options) =>
        reconcilePodIdentitySeed(
          { iam, eks: podIdentity, kubernetes, now: () => new Date() },
          seed,
          options,
        ),
      logger,
      metrics,
    });
  }
  return built(event);
};
