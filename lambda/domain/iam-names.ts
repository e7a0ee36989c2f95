/**
 * IAM naming rules for roles, paths and derived-role names.
 *
 * Pure: shared by the CDK config validation, the cdk8s app and the reconciler,
 * so all three agree on which names exist.
 */

/** IAM caps role names at 64 characters. */
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
