/**
 * The CloudWatch metrics the handlers emit (Embedded Metric Format, through
 * Powertools) and the stack's alarms and dashboard read. They live in one
 * place so a renamed metric cannot leave a graph or an alarm watching nothing.
 *
 * Powertools adds a `service` dimension with the handler's service name to
 * every metric (https://docs.powertools.aws.dev/lambda/typescript/latest/core/metrics/),
 * so each metric's dimensions are `service` plus the ones named here.
 */

/** The namespace of every metric this project emits. */
export const METRICS_NAMESPACE = 'KubestashIrsa';

/** The `service` dimension of the reconciler's metrics. */
export const RECONCILER_SERVICE = 'reconciler';
/** The `service` dimension of the job gate's metrics. */
export const JOB_GATE_SERVICE = 'job-gate';

/** Dimension naming the seed role a reconciler metric is about. */
export const SEED_DIMENSION = 'Seed';
/** Dimension naming the cluster, on {@link ReconcilerMetric.ClusterUnreachable}. */
export const CLUSTER_DIMENSION = 'Cluster';
/** Dimension naming why ServiceAccounts were refused, on {@link ReconcilerMetric.RefusedServiceAccounts}. */
export const REASON_DIMENSION = 'Reason';

/** Per seed (dimensions `service`, `Seed`), once per reconcile pass unless said otherwise. */
export const ReconcilerMetric = {
  /** Percent: derived roles over the seed's creation limit. */
  DerivedRoleUtilization: 'DerivedRoleUtilization',
  /** Count: derived roles after the pass. */
  DerivedRoles: 'DerivedRoles',
  /** Percent: the fullest derived role's trust policy over the account's size quota. */
  TrustPolicyFill: 'TrustPolicyFill',
  /** Count: ServiceAccounts that hold a derived role after the pass. */
  ServiceAccountsGranted: 'ServiceAccountsGranted',
  /** Count: ServiceAccounts refused a role, all reasons together. */
  Refusals: 'Refusals',
  /** Count per reason (dimensions `service`, `Seed`, `Reason`), 0 for a reason with none. */
  RefusedServiceAccounts: 'RefusedServiceAccounts',
  /** Count: CreateRole, UpdateAssumeRolePolicy (or policy repair) and DeleteRole calls. */
  IamWrites: 'IamWrites',
  /** Milliseconds: one seed's whole pass, reads, writes and Job releases. */
  ReconcileDuration: 'ReconcileDuration',
  /** Count: gated Jobs released this pass (only with a job gate). */
  JobsReleased: 'JobsReleased',
  /** Count: gated Jobs still held after the pass (only with a job gate). */
  JobsHeld: 'JobsHeld',
  /** Count: held Jobs marked stuck this pass (only with a job gate). */
  JobsStuck: 'JobsStuck',
  /** 1 when IAM refused a derived role because the account holds its maximum of roles. */
  RoleQuotaExceeded: 'RoleQuotaExceeded',
  /** Count: derived role names (`<seed>-<i>`) held by roles this project did not create; their indices are skipped. */
  DerivedRoleNamesTaken: 'DerivedRoleNamesTaken',
  /** Count, dimensions `service` and `Cluster` (no `Seed`): 1 per pass whose cluster API server could not be reached. */
  ClusterUnreachable: 'ClusterUnreachable',
  /** Count, dimension `service` only: queue messages that named no configured seed. */
  MalformedEvents: 'MalformedEvents',
  /** Count, dimension `service` only: queue messages folded into a pass already run for their seed. */
  EventsCoalesced: 'EventsCoalesced',
} as const;

/** Dimension `service` only, one per admission request. */
export const GateMetric = {
  /** A Job the gate let through unchanged. */
  JobsPassed: 'JobsPassed',
  /** A Job the gate created suspended, to wait for its role. */
  JobsGated: 'JobsGated',
  /** A Job the gate would have held, passed unchanged because it only observes (jobGate.observeOnly). */
  JobsObserved: 'JobsObserved',
  /** A request that was not an AdmissionReview (answered 400). */
  MalformedReviews: 'MalformedReviews',
  /** The `Job Gated` hint did not reach the bus; the next resync picks the Job up. */
  HintsFailed: 'HintsFailed',
  /** A Job passed ungated because its ServiceAccount could not be read within the budget. */
  ServiceAccountUnread: 'ServiceAccountUnread',
  /** A request without the cluster's path token (answered with a bare 404). */
  RequestsRefused: 'RequestsRefused',
} as const;

export type ReconcilerMetricName = (typeof ReconcilerMetric)[keyof typeof ReconcilerMetric];
export type GateMetricName = (typeof GateMetric)[keyof typeof GateMetric];
