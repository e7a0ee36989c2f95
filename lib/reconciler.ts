import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, ReconcilerMetric } from '../lambda/ports/metric-names';
import type { ReconcilerMetricName } from '../lambda/ports/metric-names';
import { AuditLogForwarder } from './audit-log-forwarder';
import { alphanumeric } from './config/project-config';
import type { FunctionNetwork } from './function-network';
import { projectFunction } from './lambda-bundle';
import { clusterUnreachableMetric, reconcilerSeedMetric } from './project-metrics';
import { ReconcileQueue } from './reconcile-queue';
import type { ReconcilerRole } from './reconciler-role';
import type { SeedRole } from './seed-role';

/** What the reconciler must know of each seed that IAM does not tell it. */
export interface ReconcilerSeed {
  readonly seed: SeedRole;
  /** The clusters (names, OIDC provider ARNs and issuers) whose ServiceAccounts the seed serves. */
  readonly clusters: readonly {
    readonly name: string;
    readonly providerArn: string;
    readonly issuer: string;
  }[];
  /** How `sub` is matched in derived roles. */
  readonly conditionOperator: 'StringLike' | 'StringEquals';
  /**
   * Pod-identity mode (docs/pod-identity.md): settle time of a new
   * association, and each cluster's association quota.
   * @default undefined (IRSA mode)
   */
  readonly podIdentity?: {
    readonly settleSeconds: number;
    readonly associationQuotas: Readonly<Record<string, number>>;
  };
}

export interface ReconcilerProps {
  /** The least-privilege role the function runs as. */
  readonly role: ReconcilerRole;
  readonly seeds: readonly ReconcilerSeed[];
  /** Every cluster the reconciler reaches (an EKS access entry is made in each). */
  readonly clusterNames: readonly string[];
  /**
   * The name each of `clusterNames` has in the template, where it differs from
   * the name construct IDs derive from: in a packaged template
   * (`npm run package`) the console parameter ClusterName.
   * @default each name itself
   */
  readonly clusterNameValues?: Readonly<Record<string, string>>;
  /** The Kubernetes group the access entries map the role to; cdk8s binds its RBAC. */
  readonly kubernetesGroup: string;
  /**
   * Every seed's namespaces, space-separated (a token is fine): a
   * ServiceAccount there that names a seed not allowing its namespace is
   * refused with an Event rather than ignored.
   * @default only each seed's own namespaces are read
   */
  readonly watchedNamespaces?: string;

  /** @default Duration.minutes(5) */
  readonly resyncInterval?: Duration;
  /**
   * How long a derived role may stay empty before it is deleted.
   * @default Duration.hours(1)
   */
  readonly emptyRoleGracePeriod?: Duration;
  /**
   * Clusters whose audit logs to follow, so new ServiceAccounts are seen within
   * minutes rather than at the next resync. Each needs EKS audit logging on:
   * the subscription cannot be created without its log group.
   * @default none
   */
  readonly auditLogClusters?: readonly string[];

  /**
   * Release the Jobs a job gate holds. Undefined when the stack has no gate.
   */
  readonly gate?: ReconcilerGateProps;

  /**
   * Run in these private subnets, for clusters whose API server is private
   * or allowlisted (docs/private-clusters.md).
   * @default outside any VPC
   */
  readonly network?: FunctionNetwork;
}

export interface ReconcilerGateProps {
  /** A Job held this long is marked stuck, with the reason on it. */
  readonly stuckAfter: Duration;
  /**
   * AssumeRoleWithWebIdentity attempts with the ServiceAccount's own token
   * before a Job is released; 0 releases as soon as the trust policy is written.
   */
  readonly proofAttempts: number;
  readonly proofDelay: Duration;
}

/**
 * The reconciler: events on a bus say where to look; a FIFO queue serializes
 * them per seed; a Lambda reads Kubernetes and IAM, plans, and applies the
 * fewest writes. Alarms watch the dead-letter queue, errors, the account's roles
 * quota, and how close each seed is to its derived-role limit.
 */
export class Reconciler extends Construct {
  readonly function: NodejsFunction;
  readonly queue: ReconcileQueue;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    if (props.seeds.length === 0) throw new Error('Reconciler: give at least one seed');
    const timeout = Duration.minutes(2);
    const seedNames = props.seeds.map((s) => s.seed.roleName);

    this.queue = new ReconcileQueue(this, 'Events', {
      seedNames,
      resyncInterval: props.resyncInterval,
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
    });

    this.function = projectFunction(this, 'Function', {
      handlerFile: 'reconcile',
      description: 'kubestash-irsa reconciler: grants KubeStash ServiceAccounts derived IAM roles',
      role: props.role.role,
      timeout,
      memorySize: 1024,
      ...props.network?.placement(),
      environment: {
        // toJsonString: provider ARNs may be tokens resolved at deploy time.
        RECONCILER_SEEDS: Stack.of(this).toJsonString(
          props.seeds.map((s) => ({
            name: s.seed.roleName,
            clusters: s.clusters,
            conditionOperator: s.conditionOperator,
            ...(s.podIdentity === undefined
              ? {}
              : { mode: 'pod-identity', podIdentity: s.podIdentity }),
          })),
        ),
        EMPTY_ROLE_GRACE_SECONDS: String(
          (props.emptyRoleGracePeriod ?? Duration.hours(1)).toSeconds(),
        ),
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...(props.watchedNamespaces === undefined
          ? {}
          : { WATCHED_NAMESPACES: props.watchedNamespaces }),
        ...(props.gate === undefined
          ? {}
          : {
              GATE_STUCK_AFTER_SECONDS: String(props.gate.stuckAfter.toSeconds()),
              GATE_PROOF_ATTEMPTS: String(props.gate.proofAttempts),
              GATE_PROOF_DELAY_MS: String(props.gate.proofDelay.toMilliseconds()),
            }),
      },
    });
    props.network?.grantNetworkInterfaces(props.role.role);
    this.function.addEventSource(
      new SqsEventSource(this.queue.queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        // FIFO already keeps one batch per seed in flight; this bounds IAM write bursts across seeds.
        maxConcurrency: Math.max(2, Math.min(10, seedNames.length)),
      }),
    );

    const auditLogClusters = props.auditLogClusters ?? [];
    if (auditLogClusters.length > 0) {
      new AuditLogForwarder(this, 'AuditLogs', {
        eventBus: this.queue.eventBus,
        clusterNames: auditLogClusters,
        clusterNameValues: props.clusterNameValues,
        seedNames,
      });
    }
    const nameOf = (cluster: string) => props.clusterNameValues?.[cluster] ?? cluster;

    // The aws-eks L2 AccessEntry requires EKS access policies; the reconciler's
    // rights come from Kubernetes RBAC bound to its group instead, so the L1 it is.
    for (const cluster of props.clusterNames) {
      new eks.CfnAccessEntry(this, `Access${alphanumeric(cluster)}`, {
        clusterName: nameOf(cluster),
        principalArn: props.role.role.roleArn,
        kubernetesGroups: [props.kubernetesGroup],
        type: 'STANDARD',
      });
    }

    this.alarms = [
      ...this.createAlarms(seedNames),
      ...this.unreachableAlarms(props.clusterNames, nameOf),
    ];
  }

  private createAlarms(seedNames: readonly string[]): cloudwatch.Alarm[] {
    const stack = Stack.of(this);
    const alarms = [
      new cloudwatch.Alarm(this, 'DeadLetters', {
        alarmDescription: `kubestash-irsa (${stack.stackName}): reconcile events failed 5 times and wait in the dead-letter queue`,
        metric: this.queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'Errors', {
        alarmDescription: `kubestash-irsa (${stack.stackName}): the reconciler function failed`,
        metric: this.function.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    for (const seed of seedNames) {
      alarms.push(
        this.seedAlarm(
          `Utilization${alphanumeric(seed)}`,
          seed,
          {
            metricName: ReconcilerMetric.DerivedRoleUtilization,
            statistic: 'Maximum',
            threshold: 80,
          },
          `seed ${seed} uses 80% or more of its derived-role limit; raise the limit or the trust-policy quota`,
        ),
        this.seedAlarm(
          `RoleQuota${alphanumeric(seed)}`,
          seed,
          { metricName: ReconcilerMetric.RoleQuotaExceeded, statistic: 'Sum', threshold: 1 },
          `IAM refused a derived role of ${seed} because the account holds its maximum number of roles; backups wait until the quota "Roles per account" (L-FE177D64) is raised or unused roles are deleted`,
        ),
      );
    }
    return alarms;
  }

  /**
   * One alarm per cluster whose API server a pass could not connect to
   * (metric ClusterUnreachable, dimension Cluster): its backups wait until the
   * network is fixed (docs/private-clusters.md). Two datapoints out of three
   * so that one blip does not page anyone.
   */
  private unreachableAlarms(
    clusterNames: readonly string[],
    nameOf: (cluster: string) => string,
  ): cloudwatch.Alarm[] {
    return clusterNames.map(
      (cluster) =>
        new cloudwatch.Alarm(this, `Unreachable${alphanumeric(cluster)}`, {
          alarmDescription: `kubestash-irsa (${Stack.of(this).stackName}): the reconciler cannot connect to the API server of cluster ${nameOf(cluster)}; its ServiceAccounts keep their roles but new ones wait. The log line "cluster API server unreachable" names the likely cause`,
          metric: clusterUnreachableMetric(nameOf(cluster), { statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );
  }

  /** An alarm on one of the handler's per-seed metrics (namespace KubestashIrsa, dimension Seed). */
  private seedAlarm(
    id: string,
    seed: string,
    on: {
      metricName: ReconcilerMetricName;
      statistic: string;
      threshold: number;
    },
    description: string,
  ): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      alarmDescription: `kubestash-irsa (${Stack.of(this).stackName}): ${description}`,
      metric: reconcilerSeedMetric(seed, on.metricName, {
        statistic: on.statistic,
        period: Duration.minutes(15),
      }),
      threshold: on.threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
