import { createHash } from 'node:crypto';
import { RECONCILER_COMPONENT } from '../../ports/annotations';
import {
  KubernetesApiError,
  KubernetesConflictError,
  KubernetesNotFoundError,
  KubernetesUnavailableError,
  KubernetesUnreachableError,
} from '../../ports/kubernetes-port';
import type {
  EventOutcome,
  JobRecord,
  KubernetesEventSpec,
  KubernetesPort,
  KubernetesRequestTarget,
  MutatingWebhookConfigurationRecord,
  ServiceAccountRecord,
  WebhookRegistrationsPort,
  WritePreconditions,
} from '../../ports/kubernetes-port';
import type { BearerTokenSource } from './bearer-token-source';
import type { ClusterConnection } from './cluster-connection';
import { likelyUnreachableCause, toKubernetesError } from './kubernetes-error';
import {
  toJobRecord,
  toListPage,
  toMutatingWebhookConfigurationRecord,
  toServiceAccountRecord,
  toTokenRequestToken,
} from './kubernetes-objects';
import type { HttpMethod, KubernetesTransport } from './kubernetes-transport';
import { HttpsTransport } from './https-transport';
import {
  CONNECT_FAILURE_CODES,
  DEFAULT_RETRY_POLICY,
  RETRYABLE_NETWORK_CODES,
  RETRYABLE_STATUSES,
  backoffDelayMs,
  parseRetryAfterMs,
} from './retry-policy';
import type { RetryPolicy } from './retry-policy';

/** What the client reports before it waits and tries again, for logs and metrics. */
export interface RetryNotice {
  readonly target: KubernetesRequestTarget;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly delayMs: number;
  /** `HTTP 503`, `ECONNRESET`, `token refused`… never the token itself. */
  readonly cause: string;
}

export interface KubernetesHttpClientOptions {
  /** Resolved on first use and kept, e.g. `() => connector.connection(clusterName)`. */
  readonly connection: () => Promise<ClusterConnection>;
  readonly tokens: BearerTokenSource;
  /** Defaults to node:https trusting only the connection's CA. */
  readonly transport?: (connection: ClusterConnection) => KubernetesTransport;
  /** Per attempt, from connect to the last byte. @default 10000 */
  readonly timeoutMs?: number;
  /** Per attempt, until the TLS session of a new connection is up. @default 3000 */
  readonly connectTimeoutMs?: number;
  /**
   * Attempts to connect before the cluster counts as unreachable (within maxAttempts).
   * @default 2
   */
  readonly connectAttempts?: number;
  /**
   * How long a cluster that could not be connected to is answered with
   * KubernetesUnreachableError at once, without trying. @default 60000
   */
  readonly unreachableForMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** `limit` of each list request. */
  readonly pageSize?: number;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /** In [0, 1), for backoff jitter. */
  readonly random?: () => number;
  readonly onRetry?: (notice: RetryNotice) => void;
}

/** The API server refuses TokenRequests below ten minutes. */
const MIN_TOKEN_EXPIRATION_SECONDS = 600;
const MAX_TOKEN_EXPIRATION_SECONDS = 2 ** 32;
/** Event notes longer than this are refused by the newer Events API; stay under it. */
const MAX_EVENT_MESSAGE = 1024;
const MAX_NAME = 253;
const MAX_PAGES = 10000;

interface RequestSpec {
  readonly target: KubernetesRequestTarget;
  readonly method: HttpMethod;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
}

const MERGE_PATCH = 'application/merge-patch+json';

function coreTarget(verb: string, resource: string, namespace: string, name?: string) {
  return { verb, apiGroup: '', resource, namespace, ...(name === undefined ? {} : { name }) };
}

function batchTarget(verb: string, namespace: string, name?: string) {
  return {
    verb,
    apiGroup: 'batch',
    resource: 'jobs',
    namespace,
    ...(name === undefined ? {} : { name }),
  };
}

const seg = encodeURIComponent;

/**
 * The KubernetesPort over HTTPS to one cluster's API server.
 *
 * A hand-written client rather than `@kubernetes/client-node`: that library
 * pulls in a generated model of the whole API plus its HTTP stack, several
 * megabytes that would blow the reconciler's 1 MB bundle budget and lengthen
 * every cold start, for the eight calls used here.
 *
 * Every call is retried a bounded number of times on throttling (429), server
 * failures (5xx) and dropped connections, honouring `Retry-After`; a 401 drops
 * the cached token and is retried once with a fresh one. Other refusals become
 * the port's typed errors.
 */
export class KubernetesHttpClient implements KubernetesPort, WebhookRegistrationsPort {
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private connected?: Promise<{ server: string; transport: KubernetesTransport }>;
  /** The last time no connection could be made, while it still stands. */
  private unreachable?: { readonly untilMs: number; readonly error: KubernetesUnreachableError };

  constructor(private readonly options: KubernetesHttpClientOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 10000;
    this.pageSize = options.pageSize ?? 250;
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async listServiceAccounts(namespace: string): Promise<ServiceAccountRecord[]> {
    const items = await this.listAll(
      coreTarget('list', 'serviceaccounts', namespace),
      `/api/v1/namespaces/${seg(namespace)}/serviceaccounts`,
      {},
    );
    return items.map(toServiceAccountRecord);
  }

  async getServiceAccount(
    namespace: string,
    name: string,
  ): Promise<ServiceAccountRecord | undefined> {
    const json = await this.getOrUndefined({
      target: coreTarget('get', 'serviceaccounts', namespace, name),
      method: 'GET',
      path: `/api/v1/namespaces/${seg(namespace)}/serviceaccounts/${seg(name)}`,
    });
    return json === undefined ? undefined : toServiceAccountRecord(json);
  }

  async patchServiceAccountAnnotations(
    namespace: string,
    name: string,
    annotations: Readonly<Record<string, string | null>>,
    preconditions: WritePreconditions = {},
  ): Promise<ServiceAccountRecord> {
    const json = await this.request({
      target: coreTarget('patch', 'serviceaccounts', namespace, name),
      method: 'PATCH',
      path: `/api/v1/namespaces/${seg(namespace)}/serviceaccounts/${seg(name)}`,
      contentType: MERGE_PATCH,
      body: { metadata: { ...preconditionFields(preconditions), annotations } },
    });
    return toServiceAccountRecord(json);
  }

  /**
   * Uses core/v1 Events rather than events.k8s.io/v1. Both APIs are views of
   * the same objects, so `kubectl describe` and `kubectl get events` show
   * either; core/v1 needs one RBAC rule in the core group next to the
   * ServiceAccount rules, accepts the plain `source`/`firstTimestamp`/
   * `lastTimestamp`/`count` shape, and spares the MicroTime `eventTime`,
   * `reportingInstance` and `action` that events.k8s.io/v1 requires.
   *
   * The Event's name is derived from the object's uid, the reason, the type and
   * the message, so a refusal the reconciler reports on every run is created
   * once (a retried POST or a second run gets 409 AlreadyExists, reported as
   * `duplicate`) until the cluster's event TTL removes it. That needs no
   * `patch` on events, which bumping `count` would.
   */
  async createEvent(event: KubernetesEventSpec): Promise<EventOutcome> {
    const { involvedObject } = event;
    const namespace = involvedObject.namespace;
    const timestamp = this.now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    const message =
      event.message.length > MAX_EVENT_MESSAGE
        ? `${event.message.slice(0, MAX_EVENT_MESSAGE - 1)}…`
        : event.message;
    try {
      await this.request({
        target: coreTarget('create', 'events', namespace),
        method: 'POST',
        path: `/api/v1/namespaces/${seg(namespace)}/events`,
        contentType: 'application/json',
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: eventName(event), namespace },
          involvedObject: {
            apiVersion: involvedObject.apiVersion,
            kind: involvedObject.kind,
            namespace,
            name: involvedObject.name,
            uid: involvedObject.uid,
          },
          reason: event.reason,
          message,
          type: event.type,
          source: { component: RECONCILER_COMPONENT },
          reportingComponent: RECONCILER_COMPONENT,
          firstTimestamp: timestamp,
          lastTimestamp: timestamp,
          count: 1,
        },
      });
      return 'created';
    } catch (error) {
      if (error instanceof KubernetesConflictError && error.reason === 'AlreadyExists') {
        return 'duplicate';
      }
      throw error;
    }
  }

  async getJob(namespace: string, name: string): Promise<JobRecord | undefined> {
    const json = await this.getOrUndefined({
      target: batchTarget('get', namespace, name),
      method: 'GET',
      path: `/apis/batch/v1/namespaces/${seg(namespace)}/jobs/${seg(name)}`,
    });
    return json === undefined ? undefined : toJobRecord(json);
  }

  async listJobs(namespace: string, labelSelector: string): Promise<JobRecord[]> {
    const items = await this.listAll(
      batchTarget('list', namespace),
      `/apis/batch/v1/namespaces/${seg(namespace)}/jobs`,
      { labelSelector },
    );
    return items.map(toJobRecord);
  }

  async setJobSuspended(
    namespace: string,
    name: string,
    suspend: boolean,
    options: {
      readonly annotations?: Readonly<Record<string, string | null>>;
      readonly templateAnnotations?: Readonly<Record<string, string | null>>;
      readonly preconditions?: WritePreconditions;
    } = {},
  ): Promise<JobRecord> {
    const metadata: Record<string, unknown> = {
      ...preconditionFields(options.preconditions ?? {}),
      ...(options.annotations === undefined ? {} : { annotations: { ...options.annotations } }),
    };
    const json = await this.request({
      target: batchTarget('patch', namespace, name),
      method: 'PATCH',
      path: `/apis/batch/v1/namespaces/${seg(namespace)}/jobs/${seg(name)}`,
      contentType: MERGE_PATCH,
      body: {
        ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
        spec: {
          suspend,
          ...(options.templateAnnotations === undefined
            ? {}
            : { template: { metadata: { annotations: { ...options.templateAnnotations } } } }),
        },
      },
    });
    return toJobRecord(json);
  }

  async createServiceAccountToken(
    namespace: string,
    name: string,
    audience: string,
    expirationSeconds: number,
  ): Promise<string> {
    if (
      !Number.isInteger(expirationSeconds) ||
      expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS ||
      expirationSeconds > MAX_TOKEN_EXPIRATION_SECONDS
    ) {
      throw new RangeError(
        `a TokenRequest lasts ${MIN_TOKEN_EXPIRATION_SECONDS} to ${MAX_TOKEN_EXPIRATION_SECONDS} seconds, got ${expirationSeconds}`,
      );
    }
    const json = await this.request({
      target: coreTarget('create', 'serviceaccounts/token', namespace, name),
      method: 'POST',
      path: `/api/v1/namespaces/${seg(namespace)}/serviceaccounts/${seg(name)}/token`,
      contentType: 'application/json',
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [audience], expirationSeconds },
      },
    });
    return toTokenRequestToken(json);
  }

  /** Not used by the reconciler (its RBAC has no cluster-scoped rule): `npm run migrate` calls it. */
  async listMutatingWebhookConfigurations(): Promise<MutatingWebhookConfigurationRecord[]> {
    const items = await this.listAll(
      {
        verb: 'list',
        apiGroup: 'admissionregistration.k8s.io',
        resource: 'mutatingwebhookconfigurations',
        namespace: '',
      },
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      {},
    );
    return items.map(toMutatingWebhookConfigurationRecord);
  }

  /** Closes pooled connections; for tests and orderly shutdowns. */
  async close(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    if (connected === undefined) return;
    try {
      (await connected).transport.close();
    } catch {
      // Never connected: nothing to close.
    }
  }

  private async listAll(
    target: KubernetesRequestTarget,
    path: string,
    query: Readonly<Record<string, string>>,
  ): Promise<unknown[]> {
    let items: unknown[] = [];
    let continueToken: string | undefined;
    let restarted = false;
    for (let page = 0; page < MAX_PAGES; page++) {
      let json: unknown;
      try {
        json = await this.request({
          target,
          method: 'GET',
          path,
          query: { ...query, limit: String(this.pageSize), continue: continueToken },
        });
      } catch (error) {
        // 410 Expired: the continue token outlived etcd's compaction. Start over, once.
        if (
          error instanceof KubernetesApiError &&
          error.status === 410 &&
          continueToken !== undefined &&
          !restarted
        ) {
          restarted = true;
          items = [];
          continueToken = undefined;
          continue;
        }
        throw error;
      }
      const listPage = toListPage(json);
      items.push(...listPage.items);
      if (listPage.continueToken === undefined) return items;
      if (listPage.continueToken === continueToken) {
        throw new KubernetesApiError(target, undefined, 'the API server repeated a continue token');
      }
      continueToken = listPage.continueToken;
    }
    throw new KubernetesApiError(target, undefined, `more than ${MAX_PAGES} pages`);
  }

  private async getOrUndefined(spec: RequestSpec): Promise<unknown> {
    try {
      return await this.request(spec);
    } catch (error) {
      if (error instanceof KubernetesNotFoundError) return undefined;
      throw error;
    }
  }

  private connect(): Promise<{ server: string; transport: KubernetesTransport }> {
    this.connected ??= this.options.connection().then(
      (connection) => ({
        server: connection.server.replace(/\/+$/, ''),
        transport: (this.options.transport ?? defaultTransport)(connection),
      }),
      (error: unknown) => {
        this.connected = undefined;
        throw error;
      },
    );
    return this.connected;
  }

  private async request(spec: RequestSpec): Promise<unknown> {
    this.failFastIfUnreachable(spec.target);
    const { server, transport } = await this.connect();
    const url = new URL(`${server}${spec.path}`);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    let tokenRefreshed = false;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = {
        accept: 'application/json',
        authorization: `Bearer ${await this.options.tokens.token()}`,
        'user-agent': RECONCILER_COMPONENT,
        ...(spec.contentType === undefined ? {} : { 'content-type': spec.contentType }),
      };
      let status: number;
      let responseBody: string;
      let retryAfter: string | undefined;
      try {
        const response = await transport.send({
          method: spec.method,
          url,
          headers,
          body,
          timeoutMs: this.timeoutMs,
          connectTimeoutMs: this.options.connectTimeoutMs ?? 3000,
        });
        status = response.status;
        responseBody = response.body;
        retryAfter = response.headers['retry-after'];
      } catch (error) {
        const code = errorCode(error);
        const reason = `${code ?? 'network error'}: ${error instanceof Error ? error.message : String(error)}`;
        // A connection that never came up is tried fewer times, then the cluster counts as unreachable.
        const connectFailure = code !== undefined && CONNECT_FAILURE_CODES.has(code);
        if (!connectFailure && (code === undefined || !RETRYABLE_NETWORK_CODES.has(code))) {
          throw new KubernetesApiError(
            spec.target,
            undefined,
            `could not talk to ${server} (${reason})${tlsHint(code)}`,
            { cause: error },
          );
        }
        const limit = connectFailure
          ? Math.min(this.options.connectAttempts ?? 2, this.policy.maxAttempts)
          : this.policy.maxAttempts;
        if (attempt >= limit) {
          throw connectFailure
            ? this.markUnreachable(spec.target, attempt, code, server, reason, error)
            : new KubernetesUnavailableError(
                spec.target,
                undefined,
                attempt,
                `gave up after ${attempt} attempts; last: ${reason}`,
                { cause: error },
              );
        }
        await this.pause(
          spec.target,
          attempt,
          backoffDelayMs(this.policy, attempt, this.random),
          code ?? 'network error',
        );
        continue;
      }

      if (status >= 200 && status < 300) return parseJson(spec.target, responseBody);

      if (status === 401 && !tokenRefreshed) {
        // The token may have outlived its 15 minutes or been signed with rotated credentials.
        tokenRefreshed = true;
        this.options.tokens.invalidate();
        this.options.onRetry?.({
          target: spec.target,
          attempt,
          delayMs: 0,
          cause: 'token refused',
        });
        attempt -= 1;
        continue;
      }

      if (RETRYABLE_STATUSES.has(status)) {
        const askedMs = parseRetryAfterMs(retryAfter, this.now().getTime());
        const last = toKubernetesError(spec.target, status, responseBody).message;
        if (attempt >= this.policy.maxAttempts) {
          throw new KubernetesUnavailableError(
            spec.target,
            status,
            attempt,
            `gave up after ${attempt} attempts; last: ${last}`,
          );
        }
        if (askedMs !== undefined && askedMs > this.policy.maxRetryAfterMs) {
          throw new KubernetesUnavailableError(
            spec.target,
            status,
            attempt,
            `the API server asked to retry after ${Math.ceil(askedMs / 1000)} s, longer than this run waits; last: ${last}`,
          );
        }
        const delayMs = askedMs ?? backoffDelayMs(this.policy, attempt, this.random);
        await this.pause(spec.target, attempt, delayMs, `HTTP ${status}`);
        continue;
      }

      throw toKubernetesError(spec.target, status, responseBody);
    }
  }

  /**
   * Remembers that no connection could be made, so the calls that follow
   * (the rest of this pass, other seeds on the same cluster) fail at once.
   */
  private markUnreachable(
    target: KubernetesRequestTarget,
    attempts: number,
    code: string,
    server: string,
    reason: string,
    cause: unknown,
  ): KubernetesUnreachableError {
    const error = new KubernetesUnreachableError(
      target,
      attempts,
      code,
      likelyUnreachableCause(code),
      `could not connect to ${server} after ${attempts} attempts; last: ${reason}`,
      { cause },
    );
    this.unreachable = {
      untilMs: this.now().getTime() + (this.options.unreachableForMs ?? 60_000),
      error,
    };
    return error;
  }

  private failFastIfUnreachable(target: KubernetesRequestTarget): void {
    const known = this.unreachable;
    if (known === undefined) return;
    if (this.now().getTime() >= known.untilMs) {
      this.unreachable = undefined;
      return;
    }
    throw new KubernetesUnreachableError(
      target,
      0,
      known.error.code,
      known.error.likelyCause,
      `not tried: the API server was unreachable moments ago (${known.error.message})`,
      { cause: known.error },
    );
  }

  private async pause(
    target: KubernetesRequestTarget,
    attempt: number,
    delayMs: number,
    cause: string,
  ): Promise<void> {
    this.options.onRetry?.({ target, attempt, delayMs, cause });
    await this.sleep(delayMs);
  }
}

function defaultTransport(connection: ClusterConnection): KubernetesTransport {
  return new HttpsTransport({ caPem: connection.caPem });
}

function preconditionFields(preconditions: WritePreconditions): Record<string, string> {
  return {
    ...(preconditions.uid === undefined ? {} : { uid: preconditions.uid }),
    ...(preconditions.resourceVersion === undefined
      ? {}
      : { resourceVersion: preconditions.resourceVersion }),
  };
}

/**
 * `<object>.<16 hex>`: the same object, reason, type and message always give
 * the same name. The object's name is cut so the result stays a DNS subdomain.
 */
export function eventName(event: KubernetesEventSpec): string {
  const digest = createHash('sha256')
    .update(
      [
        event.involvedObject.uid,
        event.involvedObject.kind,
        event.reason,
        event.type,
        event.message,
      ].join('\n'),
    )
    .digest('hex')
    .slice(0, 16);
  const prefix = event.involvedObject.name
    .slice(0, MAX_NAME - digest.length - 1)
    .replace(/[-.]+$/, '');
  return `${prefix}.${digest}`;
}

function parseJson(target: KubernetesRequestTarget, body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new KubernetesApiError(
      target,
      undefined,
      'the API server answered with something other than JSON',
    );
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function tlsHint(code: string | undefined): string {
  return code !== undefined && TLS_CODES.has(code)
    ? '; the server certificate does not verify against the cluster CA from DescribeCluster, so the client refused it'
    : '';
}
