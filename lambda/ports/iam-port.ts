/**
 * What the reconciler needs from IAM, shaped like the domain. Trust policies
 * are passed as IAM returns them (URL-encoded JSON); the domain decodes them.
 */

export interface RoleTag {
  readonly key: string;
  readonly value: string;
}

/** A derived role as ListRoles shows it (ListRoles returns no tags). */
export interface DerivedRoleRecord {
  readonly name: string;
  readonly path: string;
  readonly arn: string;
  readonly trustPolicy: string;
  readonly createDate: string;
}

/** A seed role: everything a derived role copies from it. */
export interface SeedRoleRecord {
  readonly name: string;
  readonly path: string;
  readonly arn: string;
  readonly description?: string;
  readonly maxSessionDurationSeconds: number;
  readonly permissionsBoundaryArn?: string;
  readonly tags: readonly RoleTag[];
  readonly attachedPolicyArns: readonly string[];
  readonly trustPolicy: string;
}

/** Everything CreateRole and AttachRolePolicy need to clone a seed. */
export interface DerivedRoleSpec {
  readonly name: string;
  readonly path: string;
  readonly trustPolicy: string;
  readonly description: string;
  readonly maxSessionDurationSeconds: number;
  readonly permissionsBoundaryArn?: string;
  readonly tags: readonly RoleTag[];
  readonly policyArns: readonly string[];
}

export interface IamPort {
  /** `AssumeRolePolicySizeQuota` from GetAccountSummary, or undefined when IAM does not say. */
  getTrustPolicySizeQuota(): Promise<number | undefined>;

  getSeedRole(name: string): Promise<SeedRoleRecord>;

  /** Any role, read as {@link getSeedRole} reads a seed; undefined when there is no such role. */
  findRole(name: string): Promise<SeedRoleRecord | undefined>;

  /** Every role under the path, in one paginated ListRoles. */
  listRolesUnderPath(path: string): Promise<DerivedRoleRecord[]>;

  getRoleTags(name: string): Promise<RoleTag[]>;

  listAttachedPolicyArns(name: string): Promise<string[]>;

  /**
   * Creates the role with its trust, boundary and tags in one call, then
   * attaches the policies. A crash between the two leaves a role that grants
   * nothing and that `ensurePoliciesAttached` repairs on the next run.
   */
  createRole(spec: DerivedRoleSpec): Promise<void>;

  /** Attaches whichever of the policies are missing; returns the ones it attached. */
  ensurePoliciesAttached(name: string, policyArns: readonly string[]): Promise<string[]>;

  updateTrustPolicy(name: string, trustPolicy: string): Promise<void>;

  tagRole(name: string, tags: readonly RoleTag[]): Promise<void>;

  untagRole(name: string, keys: readonly string[]): Promise<void>;

  /** Detaches every managed policy, then deletes the role. A role already gone is not an error. */
  deleteRole(name: string): Promise<void>;
}

/**
 * CreateRole found the name taken (`EntityAlreadyExists`). IAM role names are
 * unique in the account whatever the path and ignoring case
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html),
 * so a role the reconciler did not list, at another path, in another case, or
 * created since the list, blocks the name.
 */
export class RoleAlreadyExistsError extends Error {
  constructor(readonly roleName: string) {
    super(
      `the role name ${roleName} is already taken in the account (by a role at another path, in another case, or created since ListRoles)`,
    );
    this.name = 'RoleAlreadyExistsError';
  }
}

/** IAM refused a trust policy for its size; `quota` is the limit it named. */
export class TrustPolicyQuotaExceededError extends Error {
  constructor(
    readonly roleName: string,
    readonly quota: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'TrustPolicyQuotaExceededError';
  }
}

/**
 * IAM refused CreateRole for a reason no re-plan can work around: the
 * caller's policy, a permissions boundary or an SCP denies it
 * (`AccessDenied`), or throttling outlasted the SDK's retries. `code` is
 * IAM's error code. Roles that exist still work, so the reconciler grants
 * what fits them and tries the creation again on the next run.
 */
export class RoleCreationRefusedError extends Error {
  constructor(
    readonly roleName: string,
    readonly code: string,
    message: string,
  ) {
    super(`CreateRole ${roleName}: ${code}: ${message}`);
    this.name = 'RoleCreationRefusedError';
  }
}

/** IAM refused to create a role because the account holds its maximum. */
export class RoleQuotaExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoleQuotaExceededError';
  }
}
