/**
 * IAM naming rules for roles, paths and derived-role names.
 *
 * Pure: shared by the CDK config validation, the cdk8s app and the reconciler,
 * so all three agree on which names exist.
 */

/**
 * IAM caps role names at 64 characters.
 * Source: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 * ("Role name: 64 characters") and the CreateRole API reference (RoleName, max length 64).
 */
export const MAX_ROLE_NAME_LENGTH = 64;

/** IAM caps role paths at 512 characters. */
export const MAX_ROLE_PATH_LENGTH = 512;

/** Characters IAM allows in a role name: `[\w+=,.@-]`. */
export const ROLE_NAME_PATTERN = /^[\w+=,.@-]+$/;

/** A role path begins and ends with `/`; between them, printable ASCII without spaces. */
export const ROLE_PATH_PATTERN = /^\/(?:[\x21-\x7E]*\/)?$/;

/**
 * The name of the i-th derived role of a seed: `<seed>-<i>`.
 */
export function derivedRoleName(seedName: string, index: number): string {
  if (!Number.isInteger(index) || index < 0) {
    throw new RangeError(`derived role index must be a non-negative integer, got ${index}`);
  }
  return `${seedName}-${index}`;
}

/**
 * Parses `<seed>-<i>` back into its index, or undefined when the name is not a
 * derived role of that seed (e.g. `<seed>-backup` or `<seed>-01`).
 */
export function derivedRoleIndex(seedName: string, roleName: string): number | undefined {
  const prefix = `${seedName}-`;
  if (!roleName.startsWith(prefix)) return undefined;
  const suffix = roleName.slice(prefix.length);
  // Leading zeros would let two names map to one index; only canonical forms count.
  if (!/^(0|[1-9]\d*)$/.test(suffix)) return undefined;
  return Number(suffix);
}

/**
 * Role names are unique in an account whatever their path, and ignoring case:
 * `KubestashRole` and `kubestashrole` cannot both exist, nor `/a/X` and `/b/X`.
 * Compare names through this key.
 * Source: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
 * ("names must be unique within the account … not distinguished by case").
 */
export function roleNameKey(name: string): string {
  return name.toLowerCase();
}

/**
 * The index `roleName` would have as a derived role of the seed, comparing as
 * IAM does (ignoring case), or undefined when the two names cannot collide.
 */
export function derivedRoleIndexIgnoringCase(
  seedName: string,
  roleName: string,
): number | undefined {
  return derivedRoleIndex(roleNameKey(seedName), roleNameKey(roleName));
}

/**
 * The largest role-creation limit whose last derived name, `<seed>-<limit-1>`,
 * still fits IAM's 64 characters: 10^d, where d is the room left for digits
 * (0 when the seed name leaves no room even for `-0`).
 */
export function maxRoleCreationLimitForName(seedName: string): number {
  const digits = MAX_ROLE_NAME_LENGTH - seedName.length - 1;
  if (digits < 1) return 0;
  return Math.min(10 ** digits, Number.MAX_SAFE_INTEGER);
}

/**
 * The longest seed name that still leaves room for `-<limit-1>` within 64 characters.
 */
export function maxSeedNameLength(roleCreationLimit: number): number {
  const widestSuffix = `-${Math.max(0, roleCreationLimit - 1)}`;
  return MAX_ROLE_NAME_LENGTH - widestSuffix.length;
}

/** The ARN of a role, including its path (IAM puts the path between `role` and the name). */
export function roleArn(partition: string, account: string, path: string, name: string): string {
  return `arn:${partition}:iam::${account}:role${path}${name}`;
}

/** The seed name a `go.klusters.dev/seed-role-name` value names: an ARN's last path segment, or a bare name. */
export function seedNameOf(annotation: string): string {
  const afterRole = annotation.includes(':role/')
    ? annotation.slice(annotation.indexOf(':role/') + 6)
    : annotation;
  return afterRole.slice(afterRole.lastIndexOf('/') + 1);
}
