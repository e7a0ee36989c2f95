import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { SimulatedCrash } from './faulty-aws-handler';

/**
 * A request handler for an EKS client pointed at moto_server: moto 5.2 has
 * EKS clusters but no Pod Identity associations, so this plays the four
 * association calls at the HTTP level exactly as the EKS API reference
 * documents them (REST-JSON; request and response shapes, `createdAt` in
 * epoch seconds, errors as `x-amzn-errortype` + `{"message"}`), and forwards
 * everything else to moto. An association is accepted only in a cluster moto
 * knows (asked with DescribeCluster, as EKS answers ResourceNotFoundException
 * for an unknown cluster).
 *
 * - CreatePodIdentityAssociation: https://docs.aws.amazon.com/eks/latest/APIReference/API_CreatePodIdentityAssociation.html
 *   (a second one for the same namespace/ServiceAccount: 409 ResourceInUseException; the
 *   cluster full: 400 ResourceLimitExceededException; the same clientRequestToken again:
 *   the first answer, no second association)
 * - ListPodIdentityAssociations (summaries only, paged by maxResults/nextToken),
 *   DescribePodIdentityAssociation, DeletePodIdentityAssociation (404 ResourceNotFoundException).
 *
 * Does not model: eventual consistency of a new association (the seconds
 * before the agent honours it), UpdatePodIdentityAssociation, cross-account
 * target roles, and IAM authorization of the caller.
 */
export class EksPodIdentityHandler extends NodeHttpHandler {
  /** Every Pod Identity call that reached "EKS", in order: `Create`, `List`, `Describe`, `Delete`. */
  readonly calls: string[] = [];
  private readonly associations = new Map<string, StoredAssociation>();
  private readonly tokens = new Map<string, string>();
  private crashAt?: { readonly call: string; remaining: number };
  private sequence = 0;

  constructor(
    private readonly options: {
      /** Associations per cluster, all owners (EKS's default is 5,000). */
      readonly quota?: number;
      /** The clock `createdAt` is stamped with. */
      readonly now?: () => Date;
    } = {},
  ) {
    super();
  }

  /** The next time `call` succeeds (after `skip` earlier successes), throw SimulatedCrash instead of answering. */
  crashAfter(call: 'Create' | 'Delete', skip = 0): void {
    this.crashAt = { call, remaining: skip };
  }

  /** How many calls of a kind reached EKS. */
  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }

  /** Associations EKS holds, as `cluster/namespace/serviceAccount → roleArn`. */
  snapshot(): Map<string, string> {
    return new Map(
      [...this.associations.values()].map((a) => [
        `${a.clusterName}/${a.namespace}/${a.serviceAccount}`,
        a.roleArn,
      ]),
    );
  }

  /** Adds an association someone else made (no tags of ours). */
  seed(
    association: Omit<StoredAssociation, 'associationId' | 'associationArn' | 'createdAt'>,
  ): string {
    const stored = this.store(association);
    return stored.associationId;
  }

  override async handle(request: HttpRequest, options?: Parameters<NodeHttpHandler['handle']>[1]) {
    const match = /^\/clusters\/([^/]+)\/pod-identity-associations(?:\/([^/]+))?$/.exec(
      request.path,
    );
    if (match === null) return super.handle(request, options);
    const cluster = decodeURIComponent(match[1]);
    const id = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
    if (!(await this.clusterExists(request, cluster, options))) {
      return {
        response: answer(
          404,
          { message: `No cluster found for name: ${cluster}.` },
          'ResourceNotFoundException',
        ),
      };
    }
    const call =
      request.method === 'POST'
        ? 'Create'
        : request.method === 'DELETE'
          ? 'Delete'
          : id === undefined
            ? 'List'
            : 'Describe';
    this.calls.push(call);
    const result = this.answer(call, cluster, id, request);
    const crash = this.crashAt;
    if (crash !== undefined && crash.call === call && result.statusCode < 300) {
      if (crash.remaining === 0) {
        this.crashAt = undefined;
        throw new SimulatedCrash(`${call}PodIdentityAssociation`);
      }
      crash.remaining -= 1;
    }
    return { response: result };
  }

  private answer(
    call: string,
    cluster: string,
    id: string | undefined,
    request: HttpRequest,
  ): HttpResponse {
    if (call === 'Create') return this.create(cluster, JSON.parse(bodyText(request.body)));
    if (call === 'List') return this.list(cluster, request.query ?? {});
    const found = id === undefined ? undefined : this.associations.get(id);
    if (found === undefined || found.clusterName !== cluster) {
      return answer(
        404,
        { message: `Pod identity association ${id} not found in cluster ${cluster}.` },
        'ResourceNotFoundException',
      );
    }
    if (call === 'Delete') this.associations.delete(found.associationId);
    return answer(200, { association: wire(found) });
  }

  private create(cluster: string, body: CreateBody): HttpResponse {
    if (!body.namespace || !body.serviceAccount || !body.roleArn) {
      return answer(
        400,
        { message: 'namespace, serviceAccount and roleArn are required' },
        'InvalidParameterException',
      );
    }
    const token = body.clientRequestToken;
    const earlier = token === undefined ? undefined : this.tokens.get(`${cluster}/${token}`);
    const previous = earlier === undefined ? undefined : this.associations.get(earlier);
    if (previous !== undefined) return answer(200, { association: wire(previous) });
    const taken = [...this.associations.values()].find(
      (a) =>
        a.clusterName === cluster &&
        a.namespace === body.namespace &&
        a.serviceAccount === body.serviceAccount,
    );
    if (taken !== undefined) {
      return answer(
        409,
        {
          message: `Association already exists: ${taken.associationId}`,
          clusterName: cluster,
        },
        'ResourceInUseException',
      );
    }
    const held = [...this.associations.values()].filter((a) => a.clusterName === cluster).length;
    if (held >= (this.options.quota ?? 5000)) {
      return answer(
        400,
        {
          message: `Pod identity associations limit exceeded for cluster ${cluster}`,
          clusterName: cluster,
        },
        'ResourceLimitExceededException',
      );
    }
    const stored = this.store({
      clusterName: cluster,
      namespace: body.namespace,
      serviceAccount: body.serviceAccount,
      roleArn: body.roleArn,
      tags: body.tags ?? {},
    });
    if (token !== undefined) this.tokens.set(`${cluster}/${token}`, stored.associationId);
    return answer(200, { association: wire(stored) });
  }

  private list(cluster: string, query: HttpRequest['query']): HttpResponse {
    const all = [...this.associations.values()]
      .filter(
        (a) =>
          a.clusterName === cluster &&
          (query.namespace === undefined || a.namespace === query.namespace) &&
          (query.serviceAccount === undefined || a.serviceAccount === query.serviceAccount),
      )
      .sort((a, b) => (a.associationId < b.associationId ? -1 : 1));
    const size = Number(query.maxResults ?? 100);
    const start = Number(query.nextToken ?? 0);
    const page = all.slice(start, start + size);
    return answer(200, {
      associations: page.map((a) => ({
        clusterName: a.clusterName,
        namespace: a.namespace,
        serviceAccount: a.serviceAccount,
        associationArn: a.associationArn,
        associationId: a.associationId,
      })),
      ...(start + size < all.length ? { nextToken: String(start + size) } : {}),
    });
  }

  private store(
    a: Omit<StoredAssociation, 'associationId' | 'associationArn' | 'createdAt'>,
  ): StoredAssociation {
    this.sequence += 1;
    const associationId = `a-${String(this.sequence).padStart(17, '0')}`;
    const stored: StoredAssociation = {
      ...a,
      associationId,
      associationArn: `arn:aws:eks:us-east-1:123456789012:podidentityassociation/${a.clusterName}/${associationId}`,
      createdAt: (this.options.now ?? (() => new Date()))(),
    };
    this.associations.set(associationId, stored);
    return stored;
  }

  /** moto's DescribeCluster, asked with the caller's own headers (moto checks no signature). */
  private async clusterExists(
    request: HttpRequest,
    cluster: string,
    options?: Parameters<NodeHttpHandler['handle']>[1],
  ): Promise<boolean> {
    const describe = new HttpRequest({
      ...request,
      method: 'GET',
      path: `/clusters/${encodeURIComponent(cluster)}`,
      query: {},
      body: undefined,
      headers: { ...request.headers, 'x-kubestash-irsa-probe': randomUUID() },
    });
    delete describe.headers['content-length'];
    const { response } = await super.handle(describe, options);
    // Drained so the connection is reused.
    (response.body as Readable).resume();
    return response.statusCode === 200;
  }
}

interface StoredAssociation {
  readonly clusterName: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly associationId: string;
  readonly associationArn: string;
  readonly createdAt: Date;
}

interface CreateBody {
  readonly namespace?: string;
  readonly serviceAccount?: string;
  readonly roleArn?: string;
  readonly tags?: Record<string, string>;
  readonly clientRequestToken?: string;
}

/** The PodIdentityAssociation shape; timestamps in epoch seconds (REST-JSON's default). */
function wire(a: StoredAssociation): Record<string, unknown> {
  return {
    clusterName: a.clusterName,
    namespace: a.namespace,
    serviceAccount: a.serviceAccount,
    roleArn: a.roleArn,
    associationArn: a.associationArn,
    associationId: a.associationId,
    tags: a.tags,
    createdAt: a.createdAt.getTime() / 1000,
    modifiedAt: a.createdAt.getTime() / 1000,
  };
}

function answer(statusCode: number, body: unknown, errorType?: string): HttpResponse {
  return new HttpResponse({
    statusCode,
    headers: {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
    },
    body: Readable.from([Buffer.from(JSON.stringify(body))]),
  });
}

/** The request body as text: the SDK hands a string or bytes (a Uint8Array) to the handler. */
function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '{}';
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return typeof body === 'string' ? body : '{}';
}
