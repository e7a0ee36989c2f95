import { recogniseManagerRole } from '../domain/manager-roles';
import type { ManagerRoleFound } from '../domain/migration-report';
import type { IamPort } from '../ports/iam-port';

/** What one look at the manager's path found for a seed. */
export interface ManagerRolesAtPath {
  /** The roles {@link recogniseManagerRole} accepts: the manager's, by index. */
  readonly found: readonly ManagerRoleFound[];
  /** Roles named `<seed>-<i>` there that are not the manager's, and why not. */
  readonly passedOver: readonly { readonly name: string; readonly reason: string }[];
}

/**
 * Lists the roles at exactly `path` (the manager calls CreateRole without a
 * Path, so `/`) and recognises aws-credential-manager's derived roles of
 * `seed` among them, through the IAM port: one paginated ListRoles, then one
 * ListRoleTags per role named `<seed>-<i>` (ListRoles carries no tags; no
 * other name is worth a call). Used by `migrate` and by each reconcile pass.
 *
 * @throws whatever the IAM port throws (a pass retries; `migrate` reports it)
 */
export async function findManagerRoles(
  iam: Pick<IamPort, 'listRolesUnderPath' | 'getRoleTags'>,
  seed: string,
  path: string,
): Promise<ManagerRolesAtPath> {
  const found: ManagerRoleFound[] = [];
  const passedOver: { name: string; reason: string }[] = [];
  for (const role of await iam.listRolesUnderPath(path)) {
    const nameOnly = recogniseManagerRole(seed, { ...role, tags: [] });
    if (!nameOnly.manager && nameOnly.reason.startsWith('not named')) continue;
    const verdict = recogniseManagerRole(seed, {
      ...role,
      tags: await iam.getRoleTags(role.name),
    });
    if (!verdict.manager) {
      passedOver.push({ name: role.name, reason: verdict.reason });
      continue;
    }
    found.push({
      name: role.name,
      index: verdict.index,
      path: role.path,
      arn: role.arn,
      providerArn: verdict.providerArn,
      subjects: verdict.subjects,
    });
  }
  // ListRoles' order is IAM's; by index, reports and logs read the same on every run.
  found.sort((a, b) => a.index - b.index);
  return { found, passedOver };
}
