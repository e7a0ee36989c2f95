import { derivedRoleIndex, roleArn } from './iam-names';
import type { ExistingRole, SeedSpec, ServiceAccountState } from './plan-types';
import { parseSubject } from './subject';
import { parseTrustPolicy } from './trust-policy';

/**
 * What a cluster whose API server could not be read is taken to hold: one
 * ServiceAccount per subject its OIDC provider has in the seed's derived
 * roles, already annotated with the role that trusts it. Planning with these
 * instead of with nothing keeps that cluster's grants where they are (the
 * planner removes a subject only when its ServiceAccount is gone, and keeps an
 * annotated subject in its role), while the seed's other clusters are planned
 * from what was read. Unreadable trust policies contribute nothing (the
 * planner rewrites them anyway). A namespace wildcard (compact mode) comes back
 * as the ServiceAccount `*`, whose subject is that same wildcard.
 *
 * @param unread names of clusters of `seed` that could not be read this pass
 */
export function heldServiceAccounts(
  seed: SeedSpec,
  roles: readonly ExistingRole[],
  unread: readonly string[],
): ServiceAccountState[] {
  const providers = new Map(
    seed.clusters.filter((c) => unread.includes(c.name)).map((c) => [c.providerArn, c.name]),
  );
  if (providers.size === 0) return [];
  const [, partition = 'aws', , , account = ''] = seed.arn.split(':');
  const held: ServiceAccountState[] = [];
  for (const role of roles) {
    if (role.path !== seed.path || derivedRoleIndex(seed.name, role.name) === undefined) continue;
    let grants: ReadonlyMap<string, readonly string[]>;
    try {
      grants = parseTrustPolicy(role.trustPolicy).grants;
    } catch {
      continue;
    }
    for (const [providerArn, subjects] of grants) {
      const cluster = providers.get(providerArn);
      if (cluster === undefined) continue;
      for (const subject of subjects) {
        const parsed = parseSubject(subject);
        if (parsed === undefined) continue;
        held.push({
          cluster,
          namespace: parsed.namespace,
          name: parsed.name,
          seedRole: seed.arn,
          roleArn: roleArn(partition, account, seed.path, role.name),
        });
      }
    }
  }
  return held;
}
