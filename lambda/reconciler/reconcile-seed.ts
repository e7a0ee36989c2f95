import { derivedRoleIndex, seedNameOf } from '../domain/iam-names';
import type { ExistingRole, Plan, SeedSpec, ServiceAccountState } from '../domain/plan-types';
import { plan } from '../domain/planner';
import { DEFAULT_TRUST_POLICY_QUOTA } from '../domain/policy-size';
import { parseTrustPolicy } from '../domain/trust-policy';
import { ROLE_ARN_ANNOTATION, SEED_ROLE_ANNOTATION } from '../ports/annotations';
import type { IamPort } from '../ports/iam-port';
import { TrustPolicyQuotaExceededError } from '../ports/iam-port';
import type { KubernetesPort } from '../ports/kubernetes-port';
import { KubernetesConflictError, KubernetesNotFoundError } from '../ports/kubernetes-port';
import { seedTagSettings } from './reconciler-settings';
import type { SeedEnv } from './reconciler-settings';

export interface ReconcileDeps {
  readonly iam: IamPort;
  readonly kubernetes: (cluster: string) => KubernetesPort;
  readonly now: () => Date;
}

export interface ReconcileOptions {
  readonly emptyRoleGracePeriodSeconds: number;
  /** Other configured seeds: ServiceAccounts naming them are theirs, not refusals. */
  readonly otherSeeds: readonly string[];
  /** Report ServiceAccounts that name no configured seed (one seed does, so each is told once). */
  readonly reportUnknownSeeds: boolean;
}

export interface ReconcileResult {
  readonly plan: Plan;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly annotated: number;
  readonly events: number;
  readonly derivedRoles: number;
  readonly roleCreationLimit: number;
  readonly warnings: readonly string[];
}

interface ListedServiceAccount extends ServiceAccountState {
  readonly uid: string;
}

/**
 * One level-triggered pass over one seed: read the seed, its derived roles and
 * the ServiceAccounts that name it, plan, write IAM first (so a role trusts a
 * subject before its ServiceAccount points at it), then annotate, then tell
 * users what was refused. Running it twice changes nothing the second time.
 *
 * If IAM refuses a document for its size although the account summary
 * promised more, the pass starts over with the quota IAM named.
 */
export async function reconcileSeed(
  deps: ReconcileDeps,
  seedEnv: SeedEnv,
  options: ReconcileOptions,
  quotaOverride?: number,
): Promise<ReconcileResult> {
  const seedRole = await deps.iam.getSeedRole(seedEnv.name);
  const settings = seedTagSettings(seedRole);
  const quota =
    quotaOverride ?? (await deps.iam.getTrustPolicySizeQuota()) ?? DEFAULT_TRUST_POLICY_QUOTA;
  const spec: SeedSpec = {
    name: seedEnv.name,
    arn: seedRole.arn,
    path: settings.derivedRolePath,
    clusters: seedEnv.clusters,
    conditionOperator: seedEnv.conditionOperator,
    roleCreationLimit: settings.roleCreationLimit,
  };

  const roles = await readDerivedRoles(deps.iam, spec);
  const serviceAccounts = await readServiceAccounts(
    deps,
    spec,
    settings.allowedNamespaces,
    options,
  );
  const result = plan({
    seeds: [spec],
    allowedNamespaces: settings.allowedNamespaces,
    quota,
    emptyRoleGracePeriodSeconds: options.emptyRoleGracePeriodSeconds,
    now: deps.now().toISOString(),
    roles,
    serviceAccounts,
  });

  try {
    await applyIamWrites(deps.iam, result, seedRole.description, {
      maxSessionDurationSeconds: seedRole.maxSessionDurationSeconds,
      permissionsBoundaryArn: seedRole.permissionsBoundaryArn,
      policyArns: seedRole.attachedPolicyArns,
      seedName: seedEnv.name,
    });
  } catch (error) {
    if (
      error instanceof TrustPolicyQuotaExceededError &&
      error.quota !== undefined &&
      error.quota < quota
    ) {
      return reconcileSeed(deps, seedEnv, options, error.quota);
    }
    throw error;
  }

  const byKey = new Map(
    serviceAccounts.map((sa) => [`${sa.cluster}/${sa.namespace}/${sa.name}`, sa]),
  );
  let annotated = 0;
  for (const a of result.assignments.filter((x) => x.annotate)) {
    const sa = byKey.get(`${a.cluster}/${a.namespace}/${a.name}`);
    try {
      await deps
        .kubernetes(a.cluster)
        .patchServiceAccountAnnotations(
          a.namespace,
          a.name,
          { [ROLE_ARN_ANNOTATION]: a.roleArn },
          { uid: sa?.uid },
        );
      annotated++;
    } catch (error) {
      // Deleted (or deleted and re-created) since it was read: the next pass sees the truth.
      if (!(error instanceof KubernetesNotFoundError || error instanceof KubernetesConflictError))
        throw error;
    }
  }

  let events = 0;
  for (const r of result.refusals) {
    const sa = byKey.get(`${r.cluster}/${r.namespace}/${r.name}`);
    if (sa === undefined) continue;
    try {
      await deps.kubernetes(r.cluster).createEvent({
        involvedObject: {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          namespace: r.namespace,
          name: r.name,
          uid: sa.uid,
        },
        reason: r.reason,
        message: r.message,
        type: 'Warning',
      });
      events++;
    } catch (error) {
      if (!(error instanceof KubernetesNotFoundError)) throw error;
    }
  }

  const derivedRoles = roles.length + result.creates.length - result.deletes.length;
  return {
    plan: result,
    created: result.creates.length,
    updated: result.updates.length,
    deleted: result.deletes.length,
    annotated,
    events,
    derivedRoles,
    roleCreationLimit: settings.roleCreationLimit,
    warnings: settings.warnings,
  };
}

async function readDerivedRoles(iam: IamPort, seed: SeedSpec): Promise<ExistingRole[]> {
  const listed = await iam.listRolesUnderPath(seed.path);
  const own = listed.filter((r) => derivedRoleIndex(seed.name, r.name) !== undefined);
  return Promise.all(
    own.map(async (r) => {
      // ListRoles carries no tags; only a role that looks empty needs its empty-since mark.
      const tags = trustsNobody(r.trustPolicy) ? await iam.getRoleTags(r.name) : [];
      return {
        name: r.name,
        path: r.path,
        trustPolicy: r.trustPolicy,
        createDate: r.createDate,
        tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
      };
    }),
  );
}

/** A document that grants no subject (or that cannot be read, and so grants none the planner knows of). */
function trustsNobody(trustPolicy: string): boolean {
  try {
    return parseTrustPolicy(trustPolicy).grants.size === 0;
  } catch {
    return true;
  }
}

async function readServiceAccounts(
  deps: ReconcileDeps,
  seed: SeedSpec,
  namespaces: readonly string[],
  options: ReconcileOptions,
): Promise<ListedServiceAccount[]> {
  const out: ListedServiceAccount[] = [];
  for (const cluster of seed.clusters) {
    for (const namespace of namespaces) {
      for (const sa of await deps.kubernetes(cluster.name).listServiceAccounts(namespace)) {
        const seedRole = sa.annotations[SEED_ROLE_ANNOTATION];
        if (seedRole === undefined || sa.deletionTimestamp !== undefined) continue;
        const mine = seedRole === seed.arn || seedRole === seed.name;
        const named = seedNameOf(seedRole);
        const unknown = !mine && !options.otherSeeds.includes(named);
        if (!mine && !(unknown && options.reportUnknownSeeds)) continue;
        out.push({
          cluster: cluster.name,
          namespace,
          name: sa.name,
          uid: sa.uid,
          seedRole,
          roleArn: sa.annotations[ROLE_ARN_ANNOTATION],
        });
      }
    }
  }
  return out;
}

interface CloneOf {
  readonly seedName: string;
  readonly maxSessionDurationSeconds: number;
  readonly permissionsBoundaryArn?: string;
  readonly policyArns: readonly string[];
}

/**
 * Writes in an order that a crash anywhere leaves repairable: roles are born
 * complete but for their policies (added next, and re-checked on every
 * update); a revived role loses its empty mark before it trusts anyone, an
 * emptied one trusts nobody before it is marked.
 */
async function applyIamWrites(
  iam: IamPort,
  result: Plan,
  seedDescription: string | undefined,
  clone: CloneOf,
): Promise<void> {
  for (const c of result.creates) {
    await iam.createRole({
      name: c.roleName,
      path: c.path,
      trustPolicy: c.trustPolicy,
      description:
        `Derived from ${clone.seedName} by kubestash-irsa${seedDescription ? `: ${seedDescription}` : ''}`.slice(
          0,
          1000,
        ),
      maxSessionDurationSeconds: clone.maxSessionDurationSeconds,
      permissionsBoundaryArn: clone.permissionsBoundaryArn,
      tags: Object.entries(c.tags).map(([key, value]) => ({ key, value })),
      policyArns: clone.policyArns,
    });
  }
  for (const u of result.updates) {
    await iam.untagRole(u.roleName, u.removeTags);
    if (u.trustPolicy !== undefined) {
      await iam.updateTrustPolicy(u.roleName, u.trustPolicy);
      await iam.ensurePoliciesAttached(u.roleName, clone.policyArns);
    }
    await iam.tagRole(
      u.roleName,
      Object.entries(u.setTags).map(([key, value]) => ({ key, value })),
    );
  }
  for (const d of result.deletes) await iam.deleteRole(d.roleName);
}
