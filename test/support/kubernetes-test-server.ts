import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import * as https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubernetesHttpClient } from '../../lambda/adapters/kubernetes/kubernetes-http-client';
import {
  KUBERNETES_RBAC_RULES,
  rbacAllows,
} from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import type { KubernetesPolicyRule } from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';

const run = promisify(execFile);

/** A throwaway CA and a server certificate it signed, for 127.0.0.1 and localhost. */
export interface TestPki {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** Makes a fresh CA and server certificate with the openssl CLI, in a temporary directory it removes. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'k8s-test-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await run(
      'openssl',
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        '-subj',
        '/CN=kubestash-irsa-test-ca',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      { cwd: dir },
    );
    await run(
      'openssl',
      [
        'req',
        '-new',
        ...ec,
        '-keyout',
        'server.key',
        '-out',
        'server.csr',
        '-subj',
        '/CN=kube-apiserver',
      ],
      { cwd: dir },
    );
    await writeFile(
      join(dir, 'server.ext'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '',
      ].join('\n'),
    );
    await run(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-out',
        'server.crt',
        '-days',
        '2',
        '-extfile',
        'server.ext',
      ],
      { cwd: dir },
    );
    const [caPem, certPem, keyPem] = await Promise.all(
      ['ca.crt', 'server.crt', 'server.key'].map((f) => readFile(join(dir, f), 'utf8')),
    );
    return { caPem, certPem, keyPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let sharedPki: Promise<TestPki> | undefined;

/** One PKI per test worker: making keys costs more than the tests that use them. */
export function sharedTestPki(): Promise<TestPki> {
  sharedPki ??= createTestPki();
  return sharedPki;
}

/** What an API server's authorizer sees in a request (its RequestInfo). */
export interface RequestAccess {
  readonly apiGroup: string;
  readonly version: string;
  /** `resource` or `resource/subresource`, as RBAC rules name it. */
  readonly resource: string;
  readonly verb: string;
  readonly namespace?: string;
  readonly name?: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case names, as received. */
  readonly headers: IncomingHttpHeaders;
  readonly contentType?: string;
  /** The raw `Authorization` header. */
  readonly authorization?: string;
  readonly rawBody: string;
  /** The body parsed as JSON; undefined when empty or not JSON. */
  readonly body: unknown;
  /** Undefined for paths that are not resource requests. */
  readonly access?: RequestAccess;
  /** The status answered; 0 when the connection was reset instead (see `replyDropped`). */
  status: number;
  /** `performance.now()` when the whole request had arrived, before it took effect. */
  readonly receivedAt: number;
  /**
   * Set by {@link KubernetesTestServer.crashAfter}: the request took effect
   * (`status` is what it was applied with) but its answer was never sent.
   */
  replyDropped?: boolean;
}

export type Fault =
  | {
      readonly status: number;
      readonly retryAfter?: string;
      readonly reason?: string;
      readonly message?: string;
    }
  | { readonly reset: true }
  /** Waits, then answers normally (unless the client hung up). */
  | { readonly delayMs: number };

export interface FailNextOptions {
  /** How many requests get the fault; 1 by default. */
  readonly count?: number;
  /** Only requests this accepts get the fault, e.g. `(r) => r.query.continue !== undefined`. */
  readonly when?: (request: RecordedRequest) => boolean;
}

export interface CrashAfterOptions {
  /** Only requests this accepts count, e.g. `(r) => r.method === 'PATCH'`. */
  readonly when?: (request: RecordedRequest) => boolean;
  /** Matching requests that succeed first, untouched; 0 by default. */
  readonly skip?: number;
}

export interface ServiceAccountSeed {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly annotations?: Record<string, string>;
  readonly labels?: Record<string, string>;
  readonly deletionTimestamp?: string;
}

export interface JobSeed {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly suspend?: boolean;
  readonly serviceAccountName?: string;
  readonly conditions?: readonly { readonly type: string; readonly status: string }[];
}

/** A MutatingWebhookConfiguration as admissionregistration.k8s.io/v1 stores it (cluster-scoped). */
export interface MutatingWebhookConfigurationSeed {
  readonly name: string;
  readonly webhooks: readonly {
    readonly name: string;
    /** Omitted: the API server stores its default, `Fail`. */
    readonly failurePolicy?: 'Fail' | 'Ignore';
    readonly service?: {
      readonly namespace: string;
      readonly name: string;
      readonly path?: string;
    };
    /** `clientConfig.url` (a webhook served outside the cluster); admissionregistration/v1 takes it or `service`. */
    readonly url?: string;
    readonly rules?: readonly Record<string, unknown>[];
    readonly objectSelector?: Record<string, unknown>;
  }[];
}

export interface IssuedToken {
  readonly namespace: string;
  readonly name: string;
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly token: string;
}

export interface KubernetesTestServerOptions {
  /** Bearer tokens to accept: one value, or a predicate. Any token is accepted when omitted. */
  readonly acceptToken?: string | ((token: string) => boolean);
  /** The caller's RBAC rules; requests they do not cover get 403. Everything is allowed when omitted. */
  readonly rbacRules?: readonly KubernetesPolicyRule[];
  /** Defaults to the worker's shared PKI. */
  readonly pki?: TestPki;
}

type Json = Record<string, unknown>;

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

const MERGE_PATCH = 'application/merge-patch+json';

/**
 * An in-memory Kubernetes API server over real HTTPS, for adapter and
 * end-to-end tests. It serves exactly the calls the reconciler makes:
 * ServiceAccounts (list with limit/continue, get, merge patch), Events
 * (create), Jobs (get, list by label, merge patch) and TokenRequests, and
 * the one cluster-scoped list `npm run migrate` makes (MutatingWebhookConfigurations),
 * answering errors the way kube-apiserver does (meta/v1 Status bodies; a
 * stale resourceVersion is 409, a different uid is 422 `field is immutable`).
 * Every request is recorded; faults can be queued.
 */
export class KubernetesTestServer {
  readonly requests: RecordedRequest[] = [];
  /** Events created through the API, in order. */
  readonly events: Json[] = [];
  readonly issuedTokens: IssuedToken[] = [];
  acceptToken: KubernetesTestServerOptions['acceptToken'];
  rbacRules: KubernetesTestServerOptions['rbacRules'];

  private server?: https.Server;
  private pki?: TestPki;
  private port = 0;
  private revision = 1000;
  private readonly serviceAccounts = new Map<string, Json>();
  private readonly jobs = new Map<string, Json>();
  private readonly mutatingWebhooks = new Map<string, Json>();
  private readonly faults: { fault: Fault; when?: (request: RecordedRequest) => boolean }[] = [];
  private crash?: { readonly when?: (request: RecordedRequest) => boolean; remaining: number };
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: KubernetesTestServerOptions = {}) {
    this.acceptToken = options.acceptToken;
    this.rbacRules = options.rbacRules;
  }

  get url(): string {
    if (this.server === undefined) throw new Error('KubernetesTestServer is not started');
    return `https://127.0.0.1:${this.port}`;
  }

  /** The CA that signed the server's certificate. */
  get caPem(): string {
    if (this.pki === undefined) throw new Error('KubernetesTestServer is not started');
    return this.pki.caPem;
  }

  async start(): Promise<this> {
    this.pki = this.options.pki ?? (await sharedTestPki());
    const server = https.createServer(
      { key: this.pki.keyPem, cert: this.pki.certPem },
      (req, res) => {
        this.handle(req, res).catch((error: unknown) => {
          if (!res.headersSent && !res.destroyed) {
            this.send(res, { status: 500, body: statusBody(500, 'InternalError', String(error)) });
          }
        });
      },
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Forgets objects, requests and faults, and restores the constructor's token and RBAC settings. */
  reset(): void {
    this.requests.length = 0;
    this.events.length = 0;
    this.issuedTokens.length = 0;
    this.faults.length = 0;
    this.crash = undefined;
    this.serviceAccounts.clear();
    this.jobs.clear();
    this.mutatingWebhooks.clear();
    this.acceptToken = this.options.acceptToken;
    this.rbacRules = this.options.rbacRules;
  }

  /**
   * Answers the next `count` requests (those `when` accepts, if given) with
   * the fault instead of (or, for delays, before) the real answer. Faults
   * apply in the order they were queued.
   */
  failNext(fault: Fault, options: FailNextOptions = {}): void {
    for (let i = 0; i < (options.count ?? 1); i++) {
      this.faults.push({ fault, ...(options.when === undefined ? {} : { when: options.when }) });
    }
  }

  /**
   * Stands for the client dying right after a call reached the API server:
   * the next successful request that `when` accepts (after `skip` of them) is
   * applied as usual, then its connection is reset instead of answered. Unlike
   * `failNext`, the write happens; the caller only never learns of it.
   */
  crashAfter(options: CrashAfterOptions = {}): void {
    this.crash = {
      ...(options.when === undefined ? {} : { when: options.when }),
      remaining: options.skip ?? 0,
    };
  }

  addServiceAccount(seed: ServiceAccountSeed): Json {
    const object: Json = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        ...this.newMetadata(seed.namespace, seed.name, seed.uid),
        ...(seed.annotations === undefined ? {} : { annotations: { ...seed.annotations } }),
        ...(seed.labels === undefined ? {} : { labels: { ...seed.labels } }),
        ...(seed.deletionTimestamp === undefined
          ? {}
          : { deletionTimestamp: seed.deletionTimestamp }),
      },
    };
    this.serviceAccounts.set(key(seed.namespace, seed.name), object);
    return structuredClone(object);
  }

  serviceAccount(namespace: string, name: string): Json | undefined {
    const object = this.serviceAccounts.get(key(namespace, name));
    return object === undefined ? undefined : structuredClone(object);
  }

  deleteServiceAccount(namespace: string, name: string): void {
    this.serviceAccounts.delete(key(namespace, name));
  }

  deleteJob(namespace: string, name: string): void {
    this.jobs.delete(key(namespace, name));
  }

  addJob(seed: JobSeed): Json {
    const object: Json = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        ...this.newMetadata(seed.namespace, seed.name, seed.uid),
        ...(seed.labels === undefined ? {} : { labels: { ...seed.labels } }),
        ...(seed.annotations === undefined ? {} : { annotations: { ...seed.annotations } }),
      },
      spec: {
        suspend: seed.suspend ?? false,
        template: {
          spec: {
            ...(seed.serviceAccountName === undefined
              ? {}
              : { serviceAccountName: seed.serviceAccountName }),
            containers: [{ name: 'main', image: 'busybox' }],
            restartPolicy: 'Never',
          },
        },
      },
      status: seed.conditions === undefined ? {} : { conditions: [...seed.conditions] },
    };
    this.jobs.set(key(seed.namespace, seed.name), object);
    return structuredClone(object);
  }

  /**
   * Registers a MutatingWebhookConfiguration with the defaults the API server
   * fills in (failurePolicy `Fail`, sideEffects `None`, admissionReviewVersions
   * `v1`); it does not call the webhooks.
   */
  addMutatingWebhookConfiguration(seed: MutatingWebhookConfigurationSeed): Json {
    const metadata = this.newMetadata('', seed.name);
    delete metadata.namespace;
    const object: Json = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata,
      webhooks: seed.webhooks.map((w) => ({
        name: w.name,
        clientConfig:
          w.url !== undefined
            ? { url: w.url }
            : w.service === undefined
              ? {}
              : { service: { ...w.service } },
        failurePolicy: w.failurePolicy ?? 'Fail',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        rules: w.rules ?? [],
        ...(w.objectSelector === undefined ? {} : { objectSelector: w.objectSelector }),
      })),
    };
    this.mutatingWebhooks.set(seed.name, object);
    return structuredClone(object);
  }

  deleteMutatingWebhookConfiguration(name: string): void {
    this.mutatingWebhooks.delete(name);
  }

  job(namespace: string, name: string): Json | undefined {
    const object = this.jobs.get(key(namespace, name));
    return object === undefined ? undefined : structuredClone(object);
  }

  private newMetadata(namespace: string, name: string, uid?: string): Json {
    return {
      name,
      namespace,
      uid: uid ?? randomUUID(),
      resourceVersion: this.nextRevision(),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
  }

  private nextRevision(): string {
    this.revision += 1;
    return String(this.revision);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type'];
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      headers: req.headers,
      ...(contentType === undefined ? {} : { contentType }),
      ...(req.headers.authorization === undefined
        ? {}
        : { authorization: req.headers.authorization }),
      rawBody,
      body: parseJson(rawBody),
      access: requestAccess(method, url.pathname, query),
      status: 0,
      receivedAt: performance.now(),
    };
    this.requests.push(recorded);

    const queued = this.faults.findIndex((f) => f.when === undefined || f.when(recorded));
    const fault = queued === -1 ? undefined : this.faults.splice(queued, 1)[0].fault;
    if (fault !== undefined) {
      if ('reset' in fault) {
        req.socket.destroy();
        return;
      }
      if ('delayMs' in fault) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            resolve();
          }, fault.delayMs);
          this.timers.add(timer);
        });
        if (res.destroyed || req.socket.destroyed) return;
      } else {
        recorded.status = fault.status;
        this.send(res, {
          status: fault.status,
          body: statusBody(
            fault.status,
            fault.reason ?? reasonFor(fault.status),
            fault.message ?? `injected HTTP ${fault.status}`,
          ),
          headers: fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
        });
        return;
      }
    }

    const reply = this.answer(recorded);
    recorded.status = reply.status;
    const crash = this.crash;
    if (
      crash !== undefined &&
      reply.status < 300 &&
      (crash.when === undefined || crash.when(recorded))
    ) {
      if (crash.remaining === 0) {
        this.crash = undefined;
        recorded.replyDropped = true;
        req.socket.destroy();
        return;
      }
      crash.remaining -= 1;
    }
    this.send(res, reply);
  }

  private answer(request: RecordedRequest): Reply {
    const token = /^Bearer (.+)$/.exec(request.authorization ?? '')?.[1];
    if (this.acceptToken !== undefined) {
      const ok =
        token !== undefined &&
        (typeof this.acceptToken === 'string'
          ? token === this.acceptToken
          : this.acceptToken(token));
      if (!ok) return { status: 401, body: statusBody(401, 'Unauthorized', 'Unauthorized') };
    }
    const access = request.access;
    if (access === undefined) return notFoundPath();
    if (
      this.rbacRules !== undefined &&
      !rbacAllows(this.rbacRules, access.apiGroup, access.resource, access.verb)
    ) {
      const [resource, subresource] = access.resource.split('/');
      const scope =
        access.namespace === undefined
          ? 'at the cluster scope'
          : `in the namespace "${access.namespace}"`;
      return {
        status: 403,
        body: statusBody(
          403,
          'Forbidden',
          `${access.resource}${access.name === undefined ? '' : ` "${access.name}"`} is forbidden: User "kubestash-irsa:reconciler" cannot ${access.verb} resource "${resource}"${subresource === undefined ? '' : ` with subresource "${subresource}"`} in API group "${access.apiGroup}" ${scope}`,
        ),
      };
    }
    const ns = access.namespace;
    const route = `${access.apiGroup}/${access.version} ${access.resource} ${access.verb}`;
    if (ns === undefined) {
      return route === 'admissionregistration.k8s.io/v1 mutatingwebhookconfigurations list'
        ? this.list(
            this.mutatingWebhooks,
            'MutatingWebhookConfigurationList',
            'admissionregistration.k8s.io/v1',
            undefined,
            request.query,
          )
        : notFoundPath();
    }
    switch (route) {
      case '/v1 serviceaccounts list':
        return this.list(this.serviceAccounts, 'ServiceAccountList', 'v1', ns, request.query);
      case '/v1 serviceaccounts get':
        return this.get(this.serviceAccounts, 'serviceaccounts', ns, access.name ?? '');
      case '/v1 serviceaccounts patch':
        return this.patch(
          this.serviceAccounts,
          'serviceaccounts',
          'ServiceAccount',
          ns,
          access.name ?? '',
          request,
        );
      case '/v1 serviceaccounts/token create':
        return this.createToken(ns, access.name ?? '', request.body);
      case '/v1 events create':
        return this.createEvent(ns, request.body);
      case 'batch/v1 jobs list':
        return this.list(this.jobs, 'JobList', 'batch/v1', ns, request.query);
      case 'batch/v1 jobs get':
        return this.get(this.jobs, 'jobs.batch', ns, access.name ?? '');
      case 'batch/v1 jobs patch':
        return this.patch(this.jobs, 'jobs.batch', 'Job', ns, access.name ?? '', request);
      default:
        return notFoundPath();
    }
  }

  private list(
    store: Map<string, Json>,
    kind: string,
    apiVersion: string,
    /** Undefined for a cluster-scoped resource. */
    namespace: string | undefined,
    query: Readonly<Record<string, string>>,
  ): Reply {
    let after = '';
    if (query.continue !== undefined && query.continue !== '') {
      const decoded = decodeContinue(query.continue);
      if (
        decoded === undefined ||
        decoded.kind !== kind ||
        decoded.namespace !== (namespace ?? '')
      ) {
        return { status: 400, body: statusBody(400, 'BadRequest', 'continue key is not valid') };
      }
      after = decoded.after;
    }
    const matching = [...store.values()]
      .filter((o) => meta(o).namespace === namespace)
      .filter((o) => matchesSelector(labelsOf(o), query.labelSelector ?? ''))
      .sort((a, b) => compareNames(String(meta(a).name), String(meta(b).name)))
      .filter((o) => String(meta(o).name) > after);
    const limit = query.limit === undefined ? 0 : Number(query.limit);
    const page = limit > 0 ? matching.slice(0, limit) : matching;
    const more = page.length < matching.length;
    const last = page[page.length - 1];
    return {
      status: 200,
      body: {
        kind,
        apiVersion,
        metadata: {
          resourceVersion: String(this.revision),
          ...(more && last !== undefined
            ? {
                continue: encodeContinue({
                  kind,
                  namespace: namespace ?? '',
                  after: String(meta(last).name),
                }),
                remainingItemCount: matching.length - page.length,
              }
            : {}),
        },
        items: page.map((o) => structuredClone(o)),
      },
    };
  }

  private get(store: Map<string, Json>, resource: string, namespace: string, name: string): Reply {
    const object = store.get(key(namespace, name));
    return object === undefined
      ? notFound(resource, name)
      : { status: 200, body: structuredClone(object) };
  }

  private patch(
    store: Map<string, Json>,
    resource: string,
    kind: string,
    namespace: string,
    name: string,
    request: RecordedRequest,
  ): Reply {
    const mediaType = (request.contentType ?? '').split(';')[0].trim();
    if (mediaType !== MERGE_PATCH) {
      return {
        status: 415,
        body: statusBody(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, ${MERGE_PATCH}, application/apply-patch+yaml`,
        ),
      };
    }
    if (!isJson(request.body)) {
      return {
        status: 400,
        body: statusBody(400, 'BadRequest', 'error decoding patch: invalid JSON'),
      };
    }
    const current = store.get(key(namespace, name));
    if (current === undefined) return notFound(resource, name);
    const patched = mergePatch(current, request.body) as Json;
    const patchedMeta = meta(patched);
    const currentMeta = meta(current);
    // kube-apiserver checks the optimistic lock first, then validation (uid is immutable).
    if (patchedMeta.resourceVersion !== currentMeta.resourceVersion) {
      return {
        status: 409,
        body: statusBody(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          { name, kind: resource.split('.')[0] },
        ),
      };
    }
    if (patchedMeta.uid !== currentMeta.uid) {
      const cause = `Invalid value: "${String(patchedMeta.uid)}": field is immutable`;
      return {
        status: 422,
        body: statusBody(422, 'Invalid', `${kind} "${name}" is invalid: metadata.uid: ${cause}`, {
          name,
          kind,
          causes: [{ reason: 'FieldValueInvalid', message: cause, field: 'metadata.uid' }],
        }),
      };
    }
    const template = kind === 'Job' ? jobTemplateChange(current, patched) : undefined;
    if (template !== undefined) {
      return {
        status: 422,
        body: statusBody(422, 'Invalid', `${kind} "${name}" is invalid: ${template}`, {
          name,
          kind,
          causes: [{ reason: 'FieldValueInvalid', message: template, field: 'spec.template' }],
        }),
      };
    }
    patchedMeta.name = currentMeta.name;
    patchedMeta.namespace = currentMeta.namespace;
    patchedMeta.creationTimestamp = currentMeta.creationTimestamp;
    for (const field of ['annotations', 'labels']) {
      const map = patchedMeta[field];
      if (isJson(map) && Object.keys(map).length === 0) delete patchedMeta[field];
    }
    patchedMeta.resourceVersion = this.nextRevision();
    store.set(key(namespace, name), patched);
    return { status: 200, body: structuredClone(patched) };
  }

  private createEvent(namespace: string, body: unknown): Reply {
    if (!isJson(body)) return { status: 400, body: statusBody(400, 'BadRequest', 'invalid JSON') };
    const metadata = isJson(body.metadata) ? { ...body.metadata } : {};
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
      return {
        status: 400,
        body: statusBody(
          400,
          'BadRequest',
          'the namespace of the provided object does not match the namespace sent on the request',
        ),
      };
    }
    const involved = isJson(body.involvedObject) ? body.involvedObject : {};
    const invalid: string[] = [];
    if (involved.namespace !== namespace)
      invalid.push('involvedObject.namespace: does not match event.namespace');
    if (typeof body.reason !== 'string' || body.reason === '')
      invalid.push('reason: Required value');
    if (body.type !== 'Normal' && body.type !== 'Warning') invalid.push('type: Unsupported value');
    let name = typeof metadata.name === 'string' ? metadata.name : '';
    if (name === '' && typeof metadata.generateName === 'string') {
      name = `${metadata.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    }
    if (name === '')
      invalid.push('metadata.name: Required value: name or generateName is required');
    if (invalid.length > 0) {
      return {
        status: 422,
        body: statusBody(422, 'Invalid', `Event "${name}" is invalid: ${invalid.join(', ')}`),
      };
    }
    if (this.events.some((e) => meta(e).namespace === namespace && meta(e).name === name)) {
      return {
        status: 409,
        body: statusBody(409, 'AlreadyExists', `events "${name}" already exists`, {
          name,
          kind: 'events',
        }),
      };
    }
    const stored: Json = {
      ...body,
      metadata: { ...metadata, ...this.newMetadata(namespace, name) },
    };
    this.events.push(stored);
    return { status: 201, body: structuredClone(stored) };
  }

  private createToken(namespace: string, name: string, body: unknown): Reply {
    if (!this.serviceAccounts.has(key(namespace, name))) return notFound('serviceaccounts', name);
    const spec = isJson(body) && isJson(body.spec) ? body.spec : {};
    const expirationSeconds =
      typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
    if (expirationSeconds < 600) {
      return {
        status: 422,
        body: statusBody(
          422,
          'Invalid',
          'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: may not specify a duration less than 10 minutes',
        ),
      };
    }
    const audiences = Array.isArray(spec.audiences)
      ? spec.audiences.filter((a): a is string => typeof a === 'string')
      : [];
    const token = `test-sa-token.${namespace}.${name}.${this.issuedTokens.length + 1}`;
    this.issuedTokens.push({ namespace, name, audiences, expirationSeconds, token });
    return {
      status: 201,
      body: {
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { name, namespace, creationTimestamp: null },
        spec: { audiences, expirationSeconds, boundObjectRef: null },
        status: {
          token,
          expirationTimestamp: new Date(Date.now() + expirationSeconds * 1000).toISOString(),
        },
      },
    };
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed) return;
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.body));
  }
}

/** Parses a request path the way kube-apiserver's RequestInfoFactory does, for the shapes used here. */
export function requestAccess(
  method: string,
  pathname: string,
  query: Readonly<Record<string, string>>,
): RequestAccess | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let apiGroup: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    apiGroup = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    apiGroup = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (resource === undefined) return undefined;
  const watch = query.watch === 'true' || query.watch === '1';
  const verbs: Record<string, string> = {
    GET: name === undefined ? (watch ? 'watch' : 'list') : 'get',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name === undefined ? 'deletecollection' : 'delete',
  };
  return {
    apiGroup,
    version,
    resource: subresource === undefined ? resource : `${resource}/${subresource}`,
    verb: verbs[method] ?? method.toLowerCase(),
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
  };
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJson(patch)) return structuredClone(patch);
  const result: Json = isJson(target) ? structuredClone(target) : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = mergePatch(result[name], value);
  }
  return result;
}

function matchesSelector(labels: Record<string, unknown>, selector: string): boolean {
  return selector
    .split(',')
    .map((term) => term.trim())
    .filter((term) => term !== '')
    .every((term) => {
      const notEqual = /^([^!=]+)!=(.*)$/.exec(term);
      if (notEqual) return labels[notEqual[1].trim()] !== notEqual[2].trim();
      const equal = /^([^!=]+)==?(.*)$/.exec(term);
      if (equal) return labels[equal[1].trim()] === equal[2].trim();
      if (term.startsWith('!')) return !(term.slice(1) in labels);
      return term in labels;
    });
}

function statusBody(code: number, reason: string, message: string, details?: Json): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

function notFound(resource: string, name: string): Reply {
  return {
    status: 404,
    body: statusBody(404, 'NotFound', `${resource} "${name}" not found`, {
      name,
      kind: resource.split('.')[0],
    }),
  };
}

function notFoundPath(): Reply {
  return {
    status: 404,
    body: statusBody(404, 'NotFound', 'the server could not find the requested resource'),
  };
}

function reasonFor(status: number): string {
  const reasons: Record<number, string> = {
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    409: 'Conflict',
    410: 'Expired',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[status] ?? 'Unknown';
}

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function meta(object: Json): Json {
  if (!isJson(object.metadata)) object.metadata = {};
  return object.metadata as Json;
}

function labelsOf(object: Json): Record<string, unknown> {
  const labels = meta(object).labels;
  return isJson(labels) ? labels : {};
}

/** Byte order, the same order the continue key's `>` uses. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface ContinueKey {
  readonly kind: string;
  readonly namespace: string;
  readonly after: string;
}

function encodeContinue(value: ContinueKey): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeContinue(token: string): ContinueKey | undefined {
  const value = parseJson(Buffer.from(token, 'base64url').toString('utf8'));
  if (!isJson(value)) return undefined;
  const { kind, namespace, after } = value;
  return typeof kind === 'string' && typeof namespace === 'string' && typeof after === 'string'
    ? { kind, namespace, after }
    : undefined;
}

/**
 * Why kube-apiserver would refuse this change to a Job's pod template, or
 * undefined when it accepts it. The template is immutable, except that a Job
 * that is suspended and has never started may change its pod template's
 * labels and annotations (and node scheduling fields, not modelled here):
 * KEP-2926, GA in 1.27, https://www.kubernetes.dev/resources/keps/2926/.
 */
function jobTemplateChange(current: Json, patched: Json): string | undefined {
  const spec = (o: Json): Json => (isJson(o.spec) ? o.spec : {});
  const before = spec(current).template;
  const after = spec(patched).template;
  if (JSON.stringify(before) === JSON.stringify(after)) return undefined;
  const withoutMeta = (t: unknown): string => {
    if (!isJson(t)) return JSON.stringify(t);
    const m = isJson(t.metadata) ? { ...t.metadata } : {};
    delete m.labels;
    delete m.annotations;
    return JSON.stringify({ ...t, metadata: m });
  };
  const status = isJson(current.status) ? current.status : {};
  const mutable = spec(current).suspend === true && status.startTime === undefined;
  if (mutable && withoutMeta(before) === withoutMeta(after)) return undefined;
  return 'spec.template: Invalid value: field is immutable';
}

/** Where a started test server listens and the bearer token it accepts, as a worker thread is handed it. */
export interface TestServerAddress {
  readonly url: string;
  readonly caPem: string;
  readonly token: string;
}

/** The client a Lambda would build for the test server at `address`, its token already cached (warm container). */
export function testServerClient(address: TestServerAddress): KubernetesHttpClient {
  return new KubernetesHttpClient({
    connection: async () => ({ server: address.url, caPem: address.caPem }),
    tokens: { token: async () => address.token, invalidate: () => {} },
  });
}

/**
 * A started test server that accepts the bearer `token` and enforces `rbacRules`
 * (the reconciler's, unless given), and an HTTP client connected to it with that
 * token: the pair every harness and bench starts from.
 */
export async function startConnectedTestServer(options: {
  readonly token: string;
  readonly rbacRules?: readonly KubernetesPolicyRule[];
}): Promise<{ server: KubernetesTestServer; kube: KubernetesHttpClient }> {
  const server = await new KubernetesTestServer({
    acceptToken: options.token,
    rbacRules: options.rbacRules ?? KUBERNETES_RBAC_RULES,
  }).start();
  return {
    server,
    kube: testServerClient({ url: server.url, caPem: server.caPem, token: options.token }),
  };
}
