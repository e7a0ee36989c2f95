import { derivedRoleIndex } from '../domain/iam-names';
import type { IamPort } from '../ports/iam-port';

export interface SeedLocation {
  readonly name: string;
  /** The IAM path of the seed's derived roles. */
  readonly path: string;
}

export interface DeletionReport {
  readonly deleted: readonly string[];
  readonly failed: readonly { readonly role: string; readonly error: string }[];
}

/**
 * Deletes every derived role (`<seed>-<i>` under the seed's path) of the given
 * seeds, policies detached first: what users otherwise do by hand with a shell
 * loop when they uninstall (seed 000, section 7). Roles that are not derived
 * roles of a seed (another name, another path) are never touched. One failure
 * does not stop the others; the report says which failed and why.
 */
export async function deleteDerivedRoles(
  iam: IamPort,
  seeds: readonly SeedLocation[],
): Promise<DeletionReport> {
  const deleted: string[] = [];
  const failed: { role: string; error: string }[] = [];
  for (const seed of seeds) {
    const roles = await iam.listRolesUnderPath(seed.path);
    const derived = roles
      .filter((r) => derivedRoleIndex(seed.name, r.name) !== undefined)
      .sort(
        (a, b) =>
          (derivedRoleIndex(seed.name, a.name) ?? 0) - (derivedRoleIndex(seed.name, b.name) ?? 0),
      );
    for (const role of derived) {
      try {
        await iam.deleteRole(role.name);
        deleted.push(role.name);
      } catch (error) {
        failed.push({
          role: role.name,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  return { deleted, failed };
}
