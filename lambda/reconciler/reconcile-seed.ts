import { derivedRoleIndex, seedNameOf } from '../domain/iam-names';
import type {
  ExistingRole,
  Plan,
  Refusal,
  SeedSpec,
  ServiceAccountState,
} from '../domain/plan-types';
import { plan } from '../domain/planner';
import { DEFAULT_TRUST_POLICY_QUOTA } from '../domain/policy-size';
import { parseTrustPolicy } from '../domain/trust-policy';
import { ROLE_ARN_ANNOTATION, SEED_ROLE_ANNOTATION } from '../ports/annotations';
import type { IamPort } from '../ports/iam-port';
import { RoleQuotaExceededError, TrustPolicyQuotaExceededError } from '../ports/iam-port';
import type { KubernetesPort } from '../ports/kubernetes-port';
import { KubernetesConflictError, KubernetesNotFoundError } from '../ports/kubernetes-port';
import type { WebIdentityPort } from '../ports/web-identity-port';
import { keyOf, releaseGatedJobs } from './release-gated-jobs';
import type { ReleaseOptions, ReleaseResult } from './release-gated-jobs';
import { seedTagSettings } from './reconciler-settings';
import type { SeedEnv } from './reconciler-settings';

export interface ReconcileDeps {
  readonly iam: IamPort;
  readonly kubernetes: (cluster: string) => KubernetesPort;
  readonly now: () => Date;
  /** Proves access before a gated Job is released; without it Jobs are released unproven. */
  readonly webIdentity?: WebIdentityPort;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ReconcileOptions {
  readonly emptyRoleGracePeriodSeconds: number;
  /** Other configured seeds: ServiceAccounts naming them are theirs, not refusals. */
  readonly otherSeeds: readonly string[];
  /** Report ServiceAccounts that name no configured seed (one seed does, so each is told once). */
  readonly reportUnknownSeeds: boolean;
  /** Release the Jobs the job gate holds; undefined when the stack has no gate. */
  readonly gate?: ReleaseOptions;
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
  /**
   * IAM's message when it refused CreateRole because the account holds its
   * maximum number of roles; the ServiceAccounts that needed a new role are
   * refused with a {@link ROLE_QUOTA_EXCEEDED_REASON} Event.
   */
  readonly roleQuotaExceeded?: string;
  /** What became of the Jobs the gate holds (undefined without a gate). */
  readonly jobs?: ReleaseResult;
}

/**
 * The Event reason for a ServiceAccount left without a role because the AWS
 * account's roles quota, not the seed's creation limit, stopped a new derived
 * role. The planner knows only the seed's limit, so it cannot tell the two apart.
 */
export const ROLE_QUOTA_EXCEEDED_REASON = 'RoleQuotaExceeded';

/** What IAM taught an earlier attempt of this pass by refusing a write. */
interface Learned {
  /** The trust-policy size IAM named when it refused a document as too large. */
  readonly trustPolicyQuota?: number;
  /** IAM refused CreateRole: the account holds as many roles as its quota allows. */
  readonly roleQuota?: RoleQuotaExceededError;
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
 * promised more, the pass starts over with the quota IAM named. If IAM
 * refuses to create a role because the account is full, the pass starts over
 * creating no role: what fits the existing roles is still granted, the rest is
 * refused with an Event, and a later pass creates the roles once there is room.
 */
export async function reconcileSeed(
  deps: ReconcileDeps,
  seedEnv: SeedEnv,
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  return reconcilePass(deps, seedEnv, options, {});
}

async function reconcilePass(
  deps: ReconcileDeps,
  seedEnv: SeedEnv,
  options: ReconcileOptions,
  learned: Learned,
): Promise<ReconcileResult> {
  const seedRole = await deps.iam.getSeedRole(seedEnv.name);
  const settings = seedTagSettings(seedRole);
  const quota =
    learned.trustPolicyQuota ??
    (await deps.iam.getTrustPolicySizeQuota()) ??
    DEFAULT_TRUST_POLICY_QUOTA;
  const seed: SeedSpec = {
    name: seedEnv.name,
    arn: seedRole.arn,
    path: settings.derivedRolePath,
    clusters: seedEnv.clusters,
    conditionOperator: seedEnv.conditionOperator,
    roleCreationLimit: settings.roleCreationLimit,
  };

  const roles = await readDerivedRoles(deps.iam, seed);
  // A full account admits no new role this pass: planning with the roles that
  // exist as the limit fills them and refuses the rest, instead of failing the
  // whole pass (and every pass after it) on the first CreateRole.
  const quotaBound = learned.roleQuota !== undefined && roles.length < settings.roleCreationLimit;
  const spec: SeedSpec = quotaBound ? { ...seed, roleCreationLimit: roles.length } : seed;
  const serviceAccounts = await readServiceAccounts(
    deps,
    spec,
    settings.allowedNamespaces,
    options,
  );
  const planned = plan({
    seeds: [spec],
    allowedNamespaces: settings.allowedNamespaces,
    quota,
    emptyRoleGracePeriodSeconds: options.emptyRoleGracePeriodSeconds,
    now: deps.now().toISOString(),
    roles,
    serviceAccounts,
  });

  let repaired: string[];
  try {
    await applyIamWrites(deps.iam, planned, seedRole.description, {
      maxSessionDurationSeconds: seedRole.maxSessionDurationSeconds,
      permissionsBoundaryArn: seedRole.permissionsBoundaryArn,
      policyArns: seedRole.attachedPolicyArns,
      seedName: seedEnv.name,
    });
    repaired = await completeRolesToAnnotate(deps.iam, planned, seedRole.attachedPolicyArns);
  } catch (error) {
    if (
      error instanceof TrustPolicyQuotaExceededError &&
      error.quota !== undefined &&
      error.quota < quota
    ) {
      return reconcilePass(deps, seedEnv, options, { ...learned, trustPolicyQuota: error.quota });
    }
    // Roles created before the refusal are in IAM now: the next attempt reads
    // them back, grants what they hold, and creates nothing more.
    if (error instanceof RoleQuotaExceededError && learned.roleQuota === undefined) {
      return reconcilePass(deps, seedEnv, options, { ...learned, roleQuota: error });
    }
    throw error;
  }

  const roleQuota = quotaBound ? learned.roleQuota : undefined;
  // Only the cap this pass imposed explains these; past the seed's own limit its message stands.
  const heldByQuota = (r: Refusal): boolean =>
    roleQuota !== undefined && r.reason === 'DerivedRoleLimitReached';
  // The plan keeps the planner's reason; Events and Jobs say which limit it was.
  const reasonOf = (r: Refusal): string => (heldByQuota(r) ? ROLE_QUOTA_EXCEEDED_REASON : r.reason);
  const result: Plan =
    roleQuota === undefined
      ? planned
      : {
          ...planned,
          refusals: planned.refusals.map((r) =>
            heldByQuota(r) ? { ...r, message: roleQuotaMessage(seedEnv.name, roleQuota) } : r,
          ),
        };

  const byKey = new Map(serviceAccounts.map((sa) => [keyOf(sa), sa]));
  let annotated = 0;
  // ServiceAccounts that carry their role ARN now: the ones whose Jobs may be released.
  const granted = new Map(
    result.assignments.filter((x) => !x.annotate).map((x) => [keyOf(x), x.roleArn]),
  );
  for (const a of result.assignments.filter((x) => x.annotate)) {
    const sa = byKey.get(keyOf(a));
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
      granted.set(keyOf(a), a.roleArn);
    } catch (error) {
      // Deleted (or deleted and re-created) since it was read: the next pass sees the truth.
      if (!(error instanceof KubernetesNotFoundError || error instanceof KubernetesConflictError))
        throw error;
    }
  }

  let events = 0;
  for (const r of result.refusals) {
    const sa = byKey.get(keyOf(r));
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
        reason: reasonOf(r),
        message: r.message,
        type: 'Warning',
      });
      events++;
    } catch (error) {
      if (!(error instanceof KubernetesNotFoundError)) throw error;
    }
  }

  const jobs =
    options.gate === undefined
      ? undefined
      : await releaseGatedJobs(
          {
            kubernetes: deps.kubernetes,
            webIdentity: deps.webIdentity,
            now: deps.now,
            sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
          },
          {
            clusters: spec.clusters.map((c) => c.name),
            namespaces: settings.allowedNamespaces,
            granted,
            refused: new Map(
              result.refusals.map((r) => [
                keyOf(r),
                {
                  reason: reasonOf(r),
                  message: r.message,
                },
              ]),
            ),
            otherSeeds: options.otherSeeds,
            reportOrphans: options.reportUnknownSeeds,
          },
          options.gate,
        );

  const derivedRoles = roles.length + result.creates.length - result.deletes.length;
  const waiting = result.refusals.filter(heldByQuota).length;
  return {
    plan: result,
    created: result.creates.length,
    // A role that only had its policies re-attached was written too.
    updated: result.updates.length + repaired.length,
    deleted: result.deletes.length,
    annotated,
    events,
    derivedRoles,
    roleCreationLimit: settings.roleCreationLimit,
    warnings: [
      ...settings.warnings,
      ...repaired.map(
        (name) =>
          `${name} lacked some of the seed's policies (a run stopped between CreateRole and AttachRolePolicy); attached them before annotating`,
      ),
      ...(roleQuota === undefined
        ? []
        : [
            `IAM refused to create a derived role (${roleQuota.message}); created none this pass and refused ${waiting} ServiceAccount(s) with ${ROLE_QUOTA_EXCEEDED_REASON}: raise the IAM quota "Roles per account" (Service Quotas, L-FE177D64) or delete roles the account no longer uses`,
          ]),
    ],
    ...(roleQuota === undefined ? {} : { roleQuotaExceeded: roleQuota.message }),
    ...(jobs === undefined ? {} : { jobs }),
  };
}

/**
 * The Event text for a ServiceAccount the account's roles quota left waiting.
 * It must not change from pass to pass (no counts, no times): the Event's name
 * is derived from it, so the same refusal is recorded once, not once per pass.
 */
function roleQuotaMessage(seed: string, error: RoleQuotaExceededError): string {
  return `IAM refused to create another derived role of seed ${seed}: the AWS account holds as many IAM roles as its quota allows (${error.message}). Raise the quota "Roles per account" (Service Quotas, IAM, L-FE177D64) or delete IAM roles the account no longer uses; the next pass grants this ServiceAccount once a role can be created. The Job stays suspended until then`;
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

/**
 * A ServiceAccount may only be pointed at a role that carries the seed's
 * policies. Created and re-trusted roles have just been checked; any other
 * role about to gain an annotation may be one a run left between CreateRole
 * and AttachRolePolicy: its trust was already complete, so the plan sees
 * nothing to do, and without this its ServiceAccounts would get a role that
 * may do nothing. Returns the roles that needed policies attached.
 */
async function completeRolesToAnnotate(
  iam: IamPort,
  result: Plan,
  policyArns: readonly string[],
): Promise<string[]> {
  const checked = new Set([
    ...result.creates.map((c) => c.roleName),
    ...result.updates.filter((u) => u.trustPolicy !== undefined).map((u) => u.roleName),
  ]);
  const toCheck = new Set(
    result.assignments.filter((a) => a.annotate && !checked.has(a.roleName)).map((a) => a.roleName),
  );
  const repaired: string[] = [];
  for (const name of toCheck) {
    if ((await iam.ensurePoliciesAttached(name, policyArns)).length > 0) repaired.push(name);
  }
  return repaired;
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
