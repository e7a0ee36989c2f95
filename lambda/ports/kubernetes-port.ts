/**
 * What the reconciler needs from one cluster's Kubernetes API, shaped like the
 * domain. Every call names a namespace: the reconciler only ever looks inside
 * the allowed namespaces (namespaced Roles, no cluster-wide list).
 */

export interface ServiceAccountRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** Set once the ServiceAccount is being deleted: it must not be granted anything new. */
  readonly deletionTimestamp?: string;
}

export interface JobRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** `spec.template.spec.serviceAccountName`, `default` when the Job names none. */
  readonly serviceAccountName: string;
  readonly suspended: boolean;
  /** The Job has a Complete or Failed condition: unsuspending it would do nothing useful. */
  readonly finished: boolean;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
}

/**
 * Guards for a write: the object must still be the one that was read. A
 * ServiceAccount deleted and re-created under the same name has a new uid, so
 * a `uid` precondition keeps the reconciler from granting a role to an object
 * it never planned for.
 */
export interface WritePreconditions {
  readonly uid?: string;
  readonly resourceVersion?: string;
}

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export type KubernetesEventType = 'Normal' | 'Warning';

export interface KubernetesEventSpec {
  readonly involvedObject: InvolvedObject;
  /** UpperCamelCase, machine-readable, e.g. `SeedNotAllowed`. */
  readonly reason: string;
  /** For humans; long messages are shortened. */
  readonly message: string;
  readonly type: KubernetesEventType;
}

/** `duplicate`: the same Event (object, reason, type, message) is already recorded. */
export type EventOutcome = 'created' | 'duplicate';

/**
 * Requests one step of a pass keeps in flight to the API servers (so at
 * most this many to any one cluster): as many as
 * the HTTPS transport pools connections (adapters/kubernetes/https-transport.ts),
 * far below what the API server admits before it throttles
 * (`--max-requests-inflight`, default 400;
 * https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/).
 */
export const API_SERVER_CONCURRENCY = 8;

export interface KubernetesPort {
  /** Every ServiceAccount in the namespace, read page by page. */
  listServiceAccounts(namespace: string): Promise<ServiceAccountRecord[]>;

  /** Undefined when there is no such ServiceAccount. */
  getServiceAccount(namespace: string, name: string): Promise<ServiceAccountRecord | undefined>;

  /**
   * Sets (string) or removes (null) annotations, leaving the others alone, and
   * returns the object as written. Throws KubernetesNotFoundError when the
   * ServiceAccount is gone and KubernetesConflictError when a precondition
   * fails (re-read, re-plan).
   */
  patchServiceAccountAnnotations(
    namespace: string,
    name: string,
    annotations: Readonly<Record<string, string | null>>,
    preconditions?: WritePreconditions,
  ): Promise<ServiceAccountRecord>;

  /**
   * Records an Event about the object, in the object's namespace. The same
   * refusal reported on every run is recorded once (until the cluster's event
   * TTL expires it), so a level-triggered reconciler does not flood the namespace.
   */
  createEvent(event: KubernetesEventSpec): Promise<EventOutcome>;

  /** Undefined when there is no such Job. */
  getJob(namespace: string, name: string): Promise<JobRecord | undefined>;

  /** Jobs that match the label selector, e.g. `app.kubernetes.io/managed-by=kubestash.com`, suspended or not. */
  listJobs(namespace: string, labelSelector: string): Promise<JobRecord[]>;

  /**
   * Sets `spec.suspend`, and in the same write the given annotations (string
   * sets, null removes), so a Job is never released without saying why.
   * `templateAnnotations` go on the pod template: the API server accepts that
   * only while the Job is suspended and has never run (Kubernetes KEP-2926).
   * Same errors as patchServiceAccountAnnotations.
   */
  setJobSuspended(
    namespace: string,
    name: string,
    suspend: boolean,
    options?: {
      readonly annotations?: Readonly<Record<string, string | null>>;
      readonly templateAnnotations?: Readonly<Record<string, string | null>>;
      readonly preconditions?: WritePreconditions;
    },
  ): Promise<JobRecord>;

  /**
   * A short-lived token for the ServiceAccount (TokenRequest API), e.g. with
   * audience `sts.amazonaws.com` to prove with AssumeRoleWithWebIdentity that
   * IAM has propagated a trust policy before a Job is unsuspended. The API
   * server accepts 600 seconds at the least. The token is a secret: never log it.
   */
  createServiceAccountToken(
    namespace: string,
    name: string,
    audience: string,
    expirationSeconds: number,
  ): Promise<string>;
}

/**
 * The one call the job gate makes: it decides from the Job's ServiceAccount.
 * Its identity may do nothing else (`get serviceaccounts` in the allowed
 * namespaces: GATE_RBAC_RULES).
 */
export type ServiceAccountReader = Pick<KubernetesPort, 'getServiceAccount'>;

/** One webhook of a MutatingWebhookConfiguration, as far as the migrate and status commands need it. */
export interface MutatingWebhookRecord {
  readonly name: string;
  /** `Fail` or `Ignore`; admissionregistration.k8s.io/v1 defaults an unset one to `Fail`. */
  readonly failurePolicy: string;
  /** `clientConfig.service`, when the webhook is served in the cluster. */
  readonly serviceNamespace?: string;
  readonly serviceName?: string;
  /** `clientConfig.url`, when the webhook is served outside the cluster (the job gate's Function URL). */
  readonly url?: string;
}

/** A MutatingWebhookConfiguration (cluster-scoped). */
export interface MutatingWebhookConfigurationRecord {
  readonly name: string;
  readonly webhooks: readonly MutatingWebhookRecord[];
}

/**
 * The cluster's admission webhooks, read by `npm run migrate` with the
 * caller's own credentials (a cluster-scoped list the reconciler's namespaced
 * Roles never grant; see docs/migration.md for the RBAC rule it needs).
 */
export interface WebhookRegistrationsPort {
  /**
   * Every MutatingWebhookConfiguration, read page by page
   * (`GET /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations`,
   * https://kubernetes.io/docs/reference/kubernetes-api/extend-resources/mutating-webhook-configuration-v1/).
   */
  listMutatingWebhookConfigurations(): Promise<MutatingWebhookConfigurationRecord[]>;
}

/** Which API call failed, for messages and for callers that branch on it. */
export interface KubernetesRequestTarget {
  readonly verb: string;
  readonly apiGroup: string;
  readonly resource: string;
  /** `''` for a cluster-scoped resource. */
  readonly namespace: string;
  readonly name?: string;
}

function describeTarget(target: KubernetesRequestTarget): string {
  const group = target.apiGroup === '' ? '' : `.${target.apiGroup}`;
  const object = target.name === undefined ? '' : ` ${target.name}`;
  const scope =
    target.namespace === '' ? 'at the cluster scope' : `in namespace ${target.namespace}`;
  return `${target.verb} ${target.resource}${group}${object} ${scope}`;
}

/** Any refusal or failure of the Kubernetes API. `status` is undefined when no HTTP answer came. */
export class KubernetesApiError extends Error {
  constructor(
    readonly target: KubernetesRequestTarget,
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${describeTarget(target)}: ${message}`, options);
    this.name = 'KubernetesApiError';
  }
}

export class KubernetesNotFoundError extends KubernetesApiError {
  constructor(target: KubernetesRequestTarget, message: string) {
    super(target, 404, message);
    this.name = 'KubernetesNotFoundError';
  }
}

/**
 * The object is not the one the caller read: a stale resourceVersion (409), a
 * different uid (the API server answers 422 `metadata.uid: field is
 * immutable`), or a create whose name is taken (409 AlreadyExists).
 */
export class KubernetesConflictError extends KubernetesApiError {
  constructor(
    target: KubernetesRequestTarget,
    status: number,
    readonly reason: 'Conflict' | 'UidMismatch' | 'AlreadyExists',
    message: string,
  ) {
    super(target, status, message);
    this.name = 'KubernetesConflictError';
  }
}

/** RBAC refused the call; the message names the rule the reconciler's Role lacks. */
export class KubernetesForbiddenError extends KubernetesApiError {
  constructor(target: KubernetesRequestTarget, message: string) {
    super(target, 403, message);
    this.name = 'KubernetesForbiddenError';
  }
}

/** The API server did not accept the reconciler's IAM identity, even with a fresh token. */
export class KubernetesUnauthorizedError extends KubernetesApiError {
  constructor(target: KubernetesRequestTarget, message: string) {
    super(target, 401, message);
    this.name = 'KubernetesUnauthorizedError';
  }
}

/** Still throttled, failing or unreachable after the bounded retries: worth another run later. */
export class KubernetesUnavailableError extends KubernetesApiError {
  constructor(
    target: KubernetesRequestTarget,
    status: number | undefined,
    readonly attempts: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(target, status, message, options);
    this.name = 'KubernetesUnavailableError';
  }
}

/**
 * No connection to the API server could be made at all (timed out before the
 * TLS session, refused, no route, name not resolved): the reconciler's network
 * does not reach this cluster. Nothing was read or written. `likelyCause` says
 * what to check, for operators; `code` is the network error's.
 */
export class KubernetesUnreachableError extends KubernetesUnavailableError {
  constructor(
    target: KubernetesRequestTarget,
    attempts: number,
    readonly code: string,
    readonly likelyCause: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(target, undefined, attempts, message, options);
    this.name = 'KubernetesUnreachableError';
  }
}
