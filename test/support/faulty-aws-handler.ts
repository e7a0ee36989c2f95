import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { HttpResponse } from '@smithy/protocol-http';
import type { HttpRequest } from '@smithy/protocol-http';

/** Raised by the handler to stand for the Lambda dying right after a call reached AWS. */
export class SimulatedCrash extends Error {
  constructor(readonly afterCall: string) {
    super(`simulated crash after ${afterCall}`);
    this.name = 'SimulatedCrash';
  }
}

export interface FaultOptions {
  /**
   * Enforce IAM's trust-policy size quota, which moto does not: an oversized
   * CreateRole/UpdateAssumeRolePolicy gets real IAM's answer, HTTP 409
   * `LimitExceeded: Cannot exceed quota for ACLSizePerRole: N`.
   */
  readonly trustPolicyQuota?: number;
  /** Answer every n-th request with a throttling error (HTTP 400 `Throttling`). */
  readonly throttleEvery?: number;
  /**
   * Enforce the account's roles quota, which moto does not: a CreateRole when
   * moto already holds this many roles (seed roles included) gets real IAM's
   * answer, HTTP 409 `LimitExceeded: Cannot exceed quota for RolesPerAccount: N`.
   */
  readonly rolesPerAccountQuota?: number;
  /**
   * Actions the caller's policy does not allow, which moto does not check:
   * each gets real IAM's answer, HTTP 403 `AccessDenied: User: ... is not
   * authorized to perform: iam:<Action> ...`.
   */
  readonly deny?: readonly string[];
  /**
   * Enforce that role names are unique in the account ignoring case, which
   * moto does not (it refuses only the same name): a CreateRole whose name
   * equals an existing role's in another case gets real IAM's answer, HTTP 409
   * `EntityAlreadyExists: Role with name <name> already exists.` ("Names are
   * not distinguished by case", RoleName in
   * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
   */
  readonly roleNamesIgnoreCase?: boolean;
  /**
   * Actions answered with a throttling error every time (HTTP 400
   * `Throttling: Rate exceeded`), so the SDK's retries run out, as they do
   * when IAM throttles the account for longer than the retries last.
   */
  readonly throttle?: readonly string[];
}

/**
 * A request handler for AWS SDK clients pointed at moto: it forwards to moto
 * and injects the faults real AWS produces. Requests and responses go through
 * the SDK's real serializers, retry strategy and error parsing.
 */
export class FaultyAwsHandler extends NodeHttpHandler {
  /** Every request's action, in order (`Action=` of query-protocol services, or `X-Amz-Target`). */
  readonly actions: string[] = [];
  /** Every request forwarded to moto, with the `RoleName` it names (query-protocol IAM), in order. */
  readonly forwarded: { readonly action: string; readonly roleName?: string }[] = [];
  private count = 0;
  private crashAt?: { readonly action: string; remaining: number };

  constructor(private readonly options: FaultOptions = {}) {
    super();
  }

  /** The next time `action` succeeds (after `skip` earlier successes), throw SimulatedCrash instead of returning. */
  crashAfter(action: string, skip = 0): void {
    this.crashAt = { action, remaining: skip };
  }

  /** Writes that reached AWS, by action name. */
  calls(action: string): number {
    return this.actions.filter((a) => a === action).length;
  }

  override async handle(request: HttpRequest, options?: Parameters<NodeHttpHandler['handle']>[1]) {
    const params =
      typeof request.body === 'string' ? new URLSearchParams(request.body) : new URLSearchParams();
    const action = params.get('Action') ?? String(request.headers['x-amz-target'] ?? 'unknown');
    this.count += 1;

    const every = this.options.throttleEvery;
    if (every !== undefined && this.count % every === 0) {
      this.actions.push(`${action}:throttled`);
      return { response: errorResponse(400, 'Throttling', 'Rate exceeded') };
    }
    if (this.options.deny?.includes(action) === true) {
      this.actions.push(`${action}:denied`);
      return {
        response: errorResponse(
          403,
          'AccessDenied',
          `User: arn:aws:sts::123456789012:assumed-role/developer/session is not authorized to perform: iam:${action} on resource: arn:aws:iam::123456789012:role/ because no identity-based policy allows the iam:${action} action`,
        ),
      };
    }
    const quota = this.options.trustPolicyQuota;
    const document = params.get('AssumeRolePolicyDocument') ?? params.get('PolicyDocument');
    if (
      quota !== undefined &&
      document !== null &&
      (action === 'CreateRole' || action === 'UpdateAssumeRolePolicy') &&
      document.replace(/\s/g, '').length > quota
    ) {
      this.actions.push(`${action}:limit-exceeded`);
      return {
        response: errorResponse(
          409,
          'LimitExceeded',
          `Cannot exceed quota for ACLSizePerRole: ${quota}`,
        ),
      };
    }
    if (this.options.throttle?.includes(action) === true) {
      this.actions.push(`${action}:throttled`);
      return { response: errorResponse(400, 'Throttling', 'Rate exceeded') };
    }
    const roleName = params.get('RoleName');
    if (this.options.roleNamesIgnoreCase === true && action === 'CreateRole' && roleName !== null) {
      const clash = (await listRoleNames(request)).find(
        (n) => n !== roleName && n.toLowerCase() === roleName.toLowerCase(),
      );
      if (clash !== undefined) {
        this.actions.push(`${action}:entity-already-exists`);
        return {
          response: errorResponse(
            409,
            'EntityAlreadyExists',
            `Role with name ${roleName} already exists.`,
          ),
        };
      }
    }
    const rolesQuota = this.options.rolesPerAccountQuota;
    if (
      rolesQuota !== undefined &&
      action === 'CreateRole' &&
      (await listRoleNames(request)).length >= rolesQuota
    ) {
      this.actions.push(`${action}:limit-exceeded`);
      return {
        response: errorResponse(
          409,
          'LimitExceeded',
          `Cannot exceed quota for RolesPerAccount: ${rolesQuota}`,
        ),
      };
    }
    this.actions.push(action);
    this.forwarded.push(roleName === null ? { action } : { action, roleName });
    const result = await super.handle(request, options);
    const crash = this.crashAt;
    if (crash !== undefined && crash.action === action && result.response.statusCode < 300) {
      if (crash.remaining === 0) {
        this.crashAt = undefined;
        throw new SimulatedCrash(action);
      }
      crash.remaining -= 1;
    }
    return result;
  }
}

/**
 * The names of the roles moto holds, asked out of band (moto checks no
 * signatures; the caller's Authorization header is passed on so moto picks
 * the same account).
 */
async function listRoleNames(request: HttpRequest): Promise<string[]> {
  const port = request.port === undefined ? '' : `:${request.port}`;
  const endpoint = `${request.protocol}//${request.hostname}${port}/`;
  const authorization = Object.entries(request.headers).find(
    ([name]) => name.toLowerCase() === 'authorization',
  )?.[1];
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const body = new URLSearchParams({ Action: 'ListRoles', Version: '2010-05-08' });
    body.set('MaxItems', '1000');
    if (marker !== undefined) body.set('Marker', marker);
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body,
    });
    const xml = await response.text();
    if (!response.ok) throw new Error(`moto ListRoles failed: ${response.status} ${xml}`);
    names.push(...[...xml.matchAll(/<RoleName>([^<]*)<\/RoleName>/g)].map((m) => m[1]));
    marker = /<IsTruncated>true<\/IsTruncated>/.test(xml)
      ? /<Marker>([^<]*)<\/Marker>/.exec(xml)?.[1]
      : undefined;
  } while (marker !== undefined);
  return names;
}

function errorResponse(statusCode: number, code: string, message: string): HttpResponse {
  const body =
    `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>` +
    `<Code>${code}</Code><Message>${message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`;
  return new HttpResponse({
    statusCode,
    headers: {
      'content-type': 'text/xml',
      'x-amzn-requestid': '00000000-0000-0000-0000-000000000000',
    },
    body: Readable.from([Buffer.from(body)]),
  });
}
