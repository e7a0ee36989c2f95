import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { GateMetric, ReconcilerMetric } from '../lambda/ports/metric-names';
import type { GateMetricName, ReconcilerMetricName } from '../lambda/ports/metric-names';
import { REPORTED_REFUSAL_REASONS } from '../lambda/reconciler/reconcile-seed';
import type { JobGate } from './job-gate';
import { clusterUnreachableMetric, gateMetric, reconcilerSeedMetric } from './project-metrics';
import type { Reconciler } from './reconciler';

export interface OperationsDashboardProps {
  /** The reconciler: its function, queues and alarms are graphed. */
  readonly reconciler: Reconciler;
  /** The seed roles' names; each gets a row of graphs. */
  readonly seedNames: readonly string[];
  /** The EKS clusters the reconciler reaches; each is a line on the unreachable-clusters graph. @default none */
  readonly clusterNames?: readonly string[];
  /** The job gate, when the stack has one: its answers and latency are graphed. @default none */
  readonly jobGate?: JobGate;
  /** Further alarms for the alarm-status widget, besides the reconciler's. @default none */
  readonly alarms?: readonly cloudwatch.IAlarm[];
  /**
   * The dashboard's name (letters, digits, `-` and `_`, at most 255).
   * @default `<stack name>-operations`
   */
  readonly dashboardName?: string;
}

/** Dashboard names: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html */
const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;
/** Reconciler state metrics are written once per pass; a pass runs at least every resync. */
const PERIOD = Duration.minutes(5);

/**
 * One CloudWatch dashboard for the stack: the alarms' states; per seed, derived
 * roles against the limit, the fullest trust policy against the size quota,
 * ServiceAccounts granted and refused by reason, gated Jobs held, released and
 * stuck, IAM writes and how long a pass takes; the event queue and its
 * dead-letter queue; and the job gate's answers and latency. Every metric name
 * comes from lambda/ports/metric-names.ts, which the handlers emit with.
 *
 * @throws Error when `seedNames` is empty or `dashboardName` is not a valid name
 */
export class OperationsDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    if (props.seedNames.length === 0) {
      throw new Error('OperationsDashboard: give at least one seed name (seedNames is empty)');
    }
    const dashboardName = props.dashboardName ?? `${Stack.of(this).stackName}-operations`;
    if (!DASHBOARD_NAME.test(dashboardName)) {
      throw new Error(
        `OperationsDashboard: dashboardName ${JSON.stringify(dashboardName)} is not a CloudWatch dashboard name; use up to 255 letters, digits, "-" and "_"`,
      );
    }
    const alarms = [...props.reconciler.alarms, ...(props.alarms ?? [])];
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName,
      defaultInterval: Duration.days(1),
    });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# kubestash-irsa: ${Stack.of(this).stackName}\nDerived IAM roles per seed, the ServiceAccounts they serve, the Jobs the gate holds. \`npm run status\` prints the same state, live, per role and ServiceAccount.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms,
        width: 24,
        // Three alarms fit a row of the widget; rows are one unit high.
        height: Math.max(2, Math.ceil(alarms.length / 3) + 1),
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );
    for (const seed of props.seedNames) {
      this.dashboard.addWidgets(...this.seedWidgets(seed, props.jobGate !== undefined));
    }
    this.dashboard.addWidgets(...this.reconcilerWidgets(props.reconciler));
    if (props.clusterNames !== undefined && props.clusterNames.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Clusters whose API server a pass could not reach',
          width: 24,
          height: 4,
          left: props.clusterNames.map((cluster) =>
            clusterUnreachableMetric(cluster, { statistic: 'Sum', label: cluster, period: PERIOD }),
          ),
          leftYAxis: { min: 0, showUnits: false },
        }),
      );
    }
    if (props.jobGate !== undefined) {
      this.dashboard.addWidgets(...this.gateWidgets(props.jobGate));
    }
  }

  private seedWidgets(seed: string, gated: boolean): cloudwatch.IWidget[] {
    const m = (name: ReconcilerMetricName, statistic: string, label: string, reason?: string) =>
      reconcilerSeedMetric(seed, name, { statistic, label, period: PERIOD, reason });
    const width = gated ? 6 : 8;
    const widgets: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: `${seed}: derived roles and trust-policy fill`,
        width,
        left: [
          m(ReconcilerMetric.DerivedRoleUtilization, 'Maximum', 'Derived roles, % of limit'),
          m(ReconcilerMetric.TrustPolicyFill, 'Maximum', 'Fullest trust policy, % of quota'),
        ],
        leftYAxis: { min: 0, max: 100, label: '%', showUnits: false },
        leftAnnotations: [{ value: 80, label: 'Utilization alarm', color: '#ff7f0e' }],
        right: [m(ReconcilerMetric.DerivedRoles, 'Maximum', 'Derived roles')],
        rightYAxis: { min: 0, label: 'roles', showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: `${seed}: ServiceAccounts granted and refused`,
        width,
        left: [m(ReconcilerMetric.ServiceAccountsGranted, 'Maximum', 'Granted')],
        right: REPORTED_REFUSAL_REASONS.map((reason) =>
          m(ReconcilerMetric.RefusedServiceAccounts, 'Maximum', `Refused: ${reason}`, reason),
        ),
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, label: 'refused', showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: `${seed}: IAM writes and pass duration`,
        width,
        left: [
          m(ReconcilerMetric.IamWrites, 'Sum', 'IAM writes'),
          // A foreign role holding a `<seed>-<i>` name: the index is skipped (docs/iam-layout.md).
          m(ReconcilerMetric.DerivedRoleNamesTaken, 'Maximum', 'Derived names taken'),
        ],
        right: [
          m(ReconcilerMetric.ReconcileDuration, 'p50', 'Pass duration p50'),
          m(ReconcilerMetric.ReconcileDuration, 'Maximum', 'Pass duration max'),
        ],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, label: 'ms', showUnits: false },
      }),
    ];
    if (gated) {
      widgets.push(
        new cloudwatch.GraphWidget({
          title: `${seed}: gated Jobs`,
          width,
          left: [
            m(ReconcilerMetric.JobsHeld, 'Maximum', 'Held'),
            m(ReconcilerMetric.JobsReleased, 'Sum', 'Released'),
            m(ReconcilerMetric.JobsStuck, 'Sum', 'Marked stuck'),
          ],
          leftYAxis: { min: 0, showUnits: false },
        }),
      );
    }
    return widgets;
  }

  private reconcilerWidgets(reconciler: Reconciler): cloudwatch.IWidget[] {
    const queue = reconciler.queue;
    return [
      new cloudwatch.GraphWidget({
        title: 'Reconcile events: queue and dead letters',
        width: 12,
        left: [
          queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: 'Dead-letter queue depth',
            statistic: 'Maximum',
            period: PERIOD,
          }),
          queue.queue.metricApproximateNumberOfMessagesVisible({
            label: 'Waiting events',
            statistic: 'Maximum',
            period: PERIOD,
          }),
        ],
        right: [
          queue.queue.metricApproximateAgeOfOldestMessage({
            label: 'Oldest event age',
            statistic: 'Maximum',
            period: PERIOD,
          }),
        ],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, label: 's', showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconciler function',
        width: 12,
        left: [
          reconciler.function.metricInvocations({ period: PERIOD, label: 'Invocations' }),
          reconciler.function.metricErrors({ period: PERIOD, label: 'Errors' }),
          reconciler.function.metricThrottles({ period: PERIOD, label: 'Throttles' }),
        ],
        right: [
          reconciler.function.metricDuration({
            period: PERIOD,
            statistic: 'Maximum',
            label: 'Invocation duration max',
          }),
        ],
        leftYAxis: { min: 0, showUnits: false },
        rightYAxis: { min: 0, label: 'ms', showUnits: false },
      }),
    ];
  }

  private gateWidgets(gate: JobGate): cloudwatch.IWidget[] {
    const answer = (name: GateMetricName, label: string) =>
      gateMetric(name, { statistic: 'Sum', label, period: PERIOD });
    return [
      new cloudwatch.GraphWidget({
        title: 'Job gate: answers',
        width: 12,
        left: [
          answer(GateMetric.JobsGated, 'Held (created suspended)'),
          answer(GateMetric.JobsObserved, 'Would hold (observe-only)'),
          answer(GateMetric.JobsPassed, 'Passed'),
          answer(GateMetric.MalformedReviews, 'Malformed requests (400)'),
          answer(GateMetric.HintsFailed, 'Hints not sent'),
          answer(GateMetric.ServiceAccountUnread, 'Passed: ServiceAccount unread'),
          answer(GateMetric.RequestsRefused, 'Refused (no cluster token, 404)'),
        ],
        leftYAxis: { min: 0, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        title: 'Job gate: latency and failures',
        width: 12,
        // The API server waits for the gate on every KubeStash Job: its latency is theirs.
        left: [
          gate.function.metricDuration({ period: PERIOD, statistic: 'p50', label: 'p50' }),
          gate.function.metricDuration({ period: PERIOD, statistic: 'p99', label: 'p99' }),
          gate.function.metricDuration({ period: PERIOD, statistic: 'Maximum', label: 'max' }),
        ],
        right: [
          gate.function.metricErrors({ period: PERIOD, label: 'Errors' }),
          gate.function.metricThrottles({ period: PERIOD, label: 'Throttles' }),
        ],
        leftYAxis: { min: 0, label: 'ms', showUnits: false },
        rightYAxis: { min: 0, showUnits: false },
      }),
    ];
  }
}
