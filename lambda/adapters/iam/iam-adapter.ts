import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  GetAccountSummaryCommand,
  GetRoleCommand,
  IAMServiceException,
  ListRoleTagsCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  paginateListAttachedRolePolicies,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import type { IAMClient } from '@aws-sdk/client-iam';
import type {
  DerivedRoleRecord,
  DerivedRoleSpec,
  IamPort,
  RoleTag,
  SeedRoleRecord,
} from '../../ports/iam-port';
import {
  RoleAlreadyExistsError,
  RoleCreationRefusedError,
  RoleQuotaExceededError,
  TrustPolicyQuotaExceededError,
} from '../../ports/iam-port';

/** Raised when CreateRole finds the name taken; the port's error, named here for the adapter's callers. */
export { RoleAlreadyExistsError } from '../../ports/iam-port';

/**
 * The IamPort over the AWS SDK. Retries for throttling are the SDK client's
 * (configure `maxAttempts`/`retryMode` where the client is built); this class
 * maps IAM's errors onto the port's.
 */
export class IamAdapter implements IamPort {
  constructor(private readonly iam: IAMClient) {
    // The SDK counts `LimitExceededException` as throttling and retries it with
    // backoff, but a quota refusal is final: map it below the retry step so the
    // reconciler hears of it at once and re-plans.
    iam.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          const input = args.input as { RoleName?: unknown };
          throw mapLimitError(error, typeof input.RoleName === 'string' ? input.RoleName : '');
        }
      },
      { step: 'deserialize', priority: 'high', name: 'kubestashIrsaQuotaErrors', override: true },
    );
  }

  async getTrustPolicySizeQuota(): Promise<number | undefined> {
    const summary = await this.iam.send(new GetAccountSummaryCommand({}));
    const quota = summary.SummaryMap?.AssumeRolePolicySizeQuota;
    return typeof quota === 'number' && quota > 0 ? quota : undefined;
  }

  async getSeedRole(name: string): Promise<SeedRoleRecord> {
    const { Role: role } = await this.iam.send(new GetRoleCommand({ RoleName: name }));
    if (role?.RoleName === undefined || role.Arn === undefined || role.Path === undefined) {
      throw new Error(`GetRole ${name} returned no role`);
    }
    return {
      name: role.RoleName,
      path: role.Path,
      arn: role.Arn,
      description: role.Description,
      maxSessionDurationSeconds: role.MaxSessionDuration ?? 3600,
      permissionsBoundaryArn: role.PermissionsBoundary?.PermissionsBoundaryArn,
      tags: (role.Tags ?? []).map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })),
      attachedPolicyArns: await this.listAttachedPolicyArns(name),
      trustPolicy: role.AssumeRolePolicyDocument ?? '',
    };
  }

  async findRole(name: string): Promise<SeedRoleRecord | undefined> {
    try {
      return await this.getSeedRole(name);
    } catch (error) {
      if (isIamError(error, 'NoSuchEntity')) return undefined;
      throw error;
    }
  }

  async listRolesUnderPath(path: string): Promise<DerivedRoleRecord[]> {
    const roles: DerivedRoleRecord[] = [];
    // Pages of 1,000, IAM's most (MaxItems), not its default 100: at `/` (aws-credential-manager's
    // path) ListRoles returns every role of the account, on every pass.
    const pages = paginateListRoles({ client: this.iam, pageSize: 1000 }, { PathPrefix: path });
    for await (const page of pages) {
      for (const role of page.Roles ?? []) {
        // PathPrefix /a/ also matches /a/b/: only the exact path holds derived roles.
        if (role.Path !== path || role.RoleName === undefined || role.Arn === undefined) continue;
        roles.push({
          name: role.RoleName,
          path: role.Path,
          arn: role.Arn,
          trustPolicy: role.AssumeRolePolicyDocument ?? '',
          createDate: (role.CreateDate ?? new Date(0)).toISOString(),
        });
      }
    }
    return roles;
  }

  async getRoleTags(name: string): Promise<RoleTag[]> {
    const tags: RoleTag[] = [];
    let marker: string | undefined;
    do {
      const page = await this.iam.send(new ListRoleTagsCommand({ RoleName: name, Marker: marker }));
      for (const t of page.Tags ?? []) tags.push({ key: t.Key ?? '', value: t.Value ?? '' });
      marker = page.IsTruncated === true ? page.Marker : undefined;
    } while (marker !== undefined);
    return tags;
  }

  async listAttachedPolicyArns(name: string): Promise<string[]> {
    const arns: string[] = [];
    for await (const page of paginateListAttachedRolePolicies(
      { client: this.iam },
      { RoleName: name },
    )) {
      for (const p of page.AttachedPolicies ?? [])
        if (p.PolicyArn !== undefined) arns.push(p.PolicyArn);
    }
    return arns;
  }

  async createRole(spec: DerivedRoleSpec): Promise<void> {
    try {
      await this.iam.send(
        new CreateRoleCommand({
          RoleName: spec.name,
          Path: spec.path,
          AssumeRolePolicyDocument: spec.trustPolicy,
          Description: spec.description,
          MaxSessionDuration: spec.maxSessionDurationSeconds,
          PermissionsBoundary: spec.permissionsBoundaryArn,
          Tags: spec.tags.map((t) => ({ Key: t.key, Value: t.value })),
        }),
      );
    } catch (error) {
      if (isIamError(error, 'EntityAlreadyExists')) throw new RoleAlreadyExistsError(spec.name);
      // Any other answer of IAM (AccessDenied, throttling past the retries) refuses this one
      // creation; anything else (no answer, a crash) stays what it is.
      if (error instanceof IAMServiceException)
        throw new RoleCreationRefusedError(spec.name, error.name, error.message);
      throw error;
    }
    for (const arn of spec.policyArns) {
      await this.iam.send(new AttachRolePolicyCommand({ RoleName: spec.name, PolicyArn: arn }));
    }
  }

  async ensurePoliciesAttached(name: string, policyArns: readonly string[]): Promise<string[]> {
    const attached = new Set(await this.listAttachedPolicyArns(name));
    const missing = policyArns.filter((arn) => !attached.has(arn));
    for (const arn of missing) {
      await this.iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: arn }));
    }
    return missing;
  }

  async updateTrustPolicy(name: string, trustPolicy: string): Promise<void> {
    try {
      await this.iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: name, PolicyDocument: trustPolicy }),
      );
    } catch (error) {
      throw mapLimitError(error, name);
    }
  }

  async tagRole(name: string, tags: readonly RoleTag[]): Promise<void> {
    if (tags.length === 0) return;
    await this.iam.send(
      new TagRoleCommand({
        RoleName: name,
        Tags: tags.map((t) => ({ Key: t.key, Value: t.value })),
      }),
    );
  }

  async untagRole(name: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.iam.send(new UntagRoleCommand({ RoleName: name, TagKeys: [...keys] }));
  }

  async deleteRole(name: string): Promise<void> {
    try {
      for (const arn of await this.listAttachedPolicyArns(name)) {
        await this.iam.send(new DetachRolePolicyCommand({ RoleName: name, PolicyArn: arn }));
      }
      await this.iam.send(new DeleteRoleCommand({ RoleName: name }));
    } catch (error) {
      if (isIamError(error, 'NoSuchEntity')) return;
      throw error;
    }
  }
}

const TRUST_QUOTA = /quota for ACLSizePerRole:\s*(\d+)/i;
const ROLE_QUOTA = /quota for RolesPerAccount/i;

/**
 * Real IAM answers an oversized trust policy with HTTP 409
 * `LimitExceeded: Cannot exceed quota for ACLSizePerRole: 2048`, and a full
 * account with `... RolesPerAccount ...`: both become typed errors the
 * reconciler can act on (re-plan with the smaller quota; stop creating).
 */
function mapLimitError(error: unknown, roleName: string): unknown {
  if (!isIamError(error, 'LimitExceeded')) return error;
  const message = error instanceof Error ? error.message : String(error);
  const trust = TRUST_QUOTA.exec(message);
  if (trust !== null) return new TrustPolicyQuotaExceededError(roleName, Number(trust[1]), message);
  if (ROLE_QUOTA.test(message)) return new RoleQuotaExceededError(message);
  return error;
}

function isIamError(error: unknown, code: string): boolean {
  if (!(error instanceof IAMServiceException)) return false;
  return error.name === code || error.name === `${code}Exception`;
}
