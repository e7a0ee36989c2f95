import type {
  JobRecord,
  MutatingWebhookConfigurationRecord,
  ServiceAccountRecord,
} from '../../ports/kubernetes-port';

/**
 * Reads the API server's JSON into the port's records. Bodies are `unknown`
 * until checked: a proxy or a version skew must fail with a clear message,
 * not with `undefined` deep inside the planner.
 */

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(value: unknown, key: string): JsonObject {
  if (!isObject(value)) return {};
  const child = value[key];
  return isObject(child) ? child : {};
}

function stringAt(value: JsonObject, key: string): string | undefined {
  const child = value[key];
  return typeof child === 'string' ? child : undefined;
}

function stringMap(value: unknown): Record<string, string> {
  const map: Record<string, string> = {};
  if (!isObject(value)) return map;
  for (const [key, entry] of Object.entries(value)) if (typeof entry === 'string') map[key] = entry;
  return map;
}

interface ObjectIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly deletionTimestamp?: string;
  readonly creationTimestamp?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

function identity(json: unknown, kind: string): ObjectIdentity {
  const metadata = objectAt(json, 'metadata');
  const namespace = stringAt(metadata, 'namespace');
  const name = stringAt(metadata, 'name');
  const uid = stringAt(metadata, 'uid');
  const resourceVersion = stringAt(metadata, 'resourceVersion');
  if (
    namespace === undefined ||
    name === undefined ||
    uid === undefined ||
    resourceVersion === undefined
  ) {
    throw new Error(
      `the API server returned a ${kind} without metadata.namespace, name, uid or resourceVersion`,
    );
  }
  return {
    namespace,
    name,
    uid,
    resourceVersion,
    deletionTimestamp: stringAt(metadata, 'deletionTimestamp'),
    creationTimestamp: stringAt(metadata, 'creationTimestamp'),
    labels: stringMap(metadata.labels),
    annotations: stringMap(metadata.annotations),
  };
}

export function toServiceAccountRecord(json: unknown): ServiceAccountRecord {
  const id = identity(json, 'ServiceAccount');
  const record: ServiceAccountRecord = {
    namespace: id.namespace,
    name: id.name,
    uid: id.uid,
    resourceVersion: id.resourceVersion,
    annotations: id.annotations,
  };
  return id.deletionTimestamp === undefined
    ? record
    : { ...record, deletionTimestamp: id.deletionTimestamp };
}

export function toJobRecord(json: unknown): JobRecord {
  const id = identity(json, 'Job');
  const spec = objectAt(json, 'spec');
  const podSpec = objectAt(objectAt(spec, 'template'), 'spec');
  const conditions = objectAt(json, 'status').conditions;
  const finished =
    Array.isArray(conditions) &&
    conditions.some(
      (c) => isObject(c) && (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
  const record: JobRecord = {
    namespace: id.namespace,
    name: id.name,
    uid: id.uid,
    resourceVersion: id.resourceVersion,
    labels: id.labels,
    annotations: id.annotations,
    serviceAccountName: stringAt(podSpec, 'serviceAccountName') ?? 'default',
    suspended: spec.suspend === true,
    finished,
  };
  return {
    ...record,
    ...(id.creationTimestamp === undefined ? {} : { creationTimestamp: id.creationTimestamp }),
    ...(id.deletionTimestamp === undefined ? {} : { deletionTimestamp: id.deletionTimestamp }),
  };
}

export interface ListPage {
  readonly items: readonly unknown[];
  /** Absent on the last page. */
  readonly continueToken?: string;
}

export function toListPage(json: unknown): ListPage {
  if (!isObject(json) || !Array.isArray(json.items)) {
    throw new Error('the API server returned a list without items');
  }
  const token = stringAt(objectAt(json, 'metadata'), 'continue');
  return token === undefined || token === ''
    ? { items: json.items }
    : { items: json.items, continueToken: token };
}

/** The `status.token` of a TokenRequest answer. */
export function toTokenRequestToken(json: unknown): string {
  const token = stringAt(objectAt(json, 'status'), 'token');
  if (token === undefined || token === '') {
    throw new Error('the API server answered the TokenRequest without status.token');
  }
  return token;
}

/** A `meta/v1` Status, what the API server sends with every error. */
export interface KubernetesStatus {
  readonly reason?: string;
  readonly message?: string;
  readonly causeFields: readonly string[];
}

export function parseStatus(body: string): KubernetesStatus | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isObject(json) || json.kind !== 'Status') return undefined;
  const causes = objectAt(json, 'details').causes;
  const causeFields = Array.isArray(causes)
    ? causes.flatMap((c) => (isObject(c) && typeof c.field === 'string' ? [c.field] : []))
    : [];
  return { reason: stringAt(json, 'reason'), message: stringAt(json, 'message'), causeFields };
}

/**
 * A MutatingWebhookConfiguration: its name and, per webhook, the name, the
 * failurePolicy (`Fail` when unset, admissionregistration.k8s.io/v1's default)
 * and the Service that serves it.
 */
export function toMutatingWebhookConfigurationRecord(
  json: unknown,
): MutatingWebhookConfigurationRecord {
  const name = stringAt(objectAt(json, 'metadata'), 'name');
  if (name === undefined) {
    throw new Error('the API server returned a MutatingWebhookConfiguration without metadata.name');
  }
  const list = isObject(json) && Array.isArray(json.webhooks) ? json.webhooks : [];
  return {
    name,
    webhooks: list.filter(isObject).map((w) => {
      const clientConfig = objectAt(w, 'clientConfig');
      const service = objectAt(clientConfig, 'service');
      const serviceNamespace = stringAt(service, 'namespace');
      const serviceName = stringAt(service, 'name');
      const url = stringAt(clientConfig, 'url');
      return {
        name: stringAt(w, 'name') ?? '',
        failurePolicy: stringAt(w, 'failurePolicy') ?? 'Fail',
        ...(serviceNamespace === undefined ? {} : { serviceNamespace }),
        ...(serviceName === undefined ? {} : { serviceName }),
        ...(url === undefined ? {} : { url }),
      };
    }),
  };
}
