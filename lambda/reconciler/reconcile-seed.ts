import { derivedRoleIndex, seedNameOf } from '../domain/iam-names';
import type {
  Assignment,
  ExistingRole,
  Plan,
  Refusal,
  SeedSpec,
  ServiceAccountState,
} from '../domain/plan-types';
import { heldServiceAccounts } from '../domain/held-subjects';
import { keptManagerRole } from '../domain/manager-roles';
import type { ManagerRoleFound } from '../domain/migration-report';
import { REFUSAL_REASONS } from '../domain/plan-types';
import { plan } from '../domain/planner';
import { DEFAULT_TRUST_POLICY_QUOTA } from '../domain/policy-size';
import { parseTrustPolicy } from '../domain/trust-policy';
import { ROLE_ARN_ANNOTATION, SEED_ROLE_ANNOTATION } from '../ports/annotations';
import type { IamPort, SeedRoleRecord } from '../ports/iam-port';
import {
  RoleAlreadyExistsError,
  RoleCreationRefusedError,
  RoleQuotaExceededError,
  TrustPolicyQuotaExceededError,
} from '../ports/iam-port';
import type { KubernetesPort } from '../ports/kubernetes-port';
import { KubernetesNotFoundError, KubernetesUnreachableError } from '../ports/kubernetes-port';
import type { WebIdentityPort } from '../ports/web-identity-port';
import { findManagerRoles } from '../migration/find-manager-roles';
import { annotateServiceAccounts } from './annotate-service-accounts';
import { onApiServers } from './api-server-calls';
import { proveRoles } from './prove-roles';
import type { RoleProof } from './prove-roles';
import { keyOf, releaseGatedJobs } from './release-gated-jobs';
import type { GateJobs, ReleaseOptions, ReleaseOutcome, ReleaseResult } from './release-gated-jobs';
import { seedTagSettings } from './reconciler-settings';
import type { SeedEnv, SeedTagSettings } from './reconciler-settings';

export interface ReconcileDeps {
  readonly iam: IamPort;
  readonly kubernetes: (cluster: string) => KubernetesPort;
  readonly now: () => Date;
  /** Proves each role version before its ServiceAccounts are annotated; without it they are annotated unproven. */
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
  /**
   * Namespaces where other seeds may grant: a ServiceAccount there that names
   * this seed is read too, so the planner refuses it with a
   * NamespaceNotAllowed Event instead of leaving it unanswered.
   * @default none beyond the seed's own
   */
  readonly watchedNamespaces?: readonly string[];
  /** Release the Jobs the job gate holds; undefined when the stack has no gate. */
  readonly gate?: ReleaseOptions;
  /** Clusters a pod-identity seed serves (their held Jobs are that seed's to release). */
  readonly podIdentityClusters?: readonly string[];
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
  /**
   * Derived names CreateRole found taken by roles the seed does not own (at
   * another path or in another case): the pass skipped those indices.
   */
  readonly takenRoleNames?: readonly string[];
  /**
   * IAM refused CreateRole for a reason a later run may not meet (AccessDenied,
   * throttling past the retries): the pass granted what fits the roles that
   * exist and created none. The handler returns the message to the queue so
   * the next run tries again.
   */
  readonly retryLater?: string;
  /**
   * aws-credential-manager's derived roles of this seed (untagged `<seed>-<i>`
   * at `/`): their indices were skipped and nothing was written to them.
   */
  readonly managerRoles?: readonly string[];
  /** ServiceAccounts left with the manager's role that trusts them (not planned, not annotated). */
  readonly leftToManager?: number;
  /** What became of the Jobs the gate holds (undefined without a gate). */
  readonly jobs?: ReleaseResult;
  /**
   * Refused ServiceAccounts per reason as their Events name it (the planner's
   * reason, or {@link ROLE_QUOTA_EXCEEDED_REASON}); reasons with none are absent.
   */
  readonly refusedByReason: Readonly<Record<string, number>>;
  /** The gate's Jobs as the pass left them, and how to look again; undefined without a gate. */
  readonly gateJobs?: GateJobs;
  /**
   * Clusters of the seed whose API server could not be connected to. Their
   * grants were kept as the roles hold them; nothing was read or written there.
   */
  readonly unreachableClusters: readonly UnreachableCluster[];
}

/** A cluster the pass could not connect to, and why that most likely is. */
export interface UnreachableCluster {
  readonly cluster: string;
  /** The network error's code, e.g. ECONNECTTIMEOUT. */
  readonly code: string;
  readonly likelyCause: string;
  readonly message: string;
}

/**
 * The Event reason for a ServiceAccount left without a role because the AWS
 * account's roles quota, not the seed's creation limit, stopped a new derived
 * role. The planner knows only the seed's limit, so it cannot tell the two apart.
 */
export const ROLE_QUOTA_EXCEEDED_REASON = 'RoleQuotaExceeded';

/**
 * The Event reason for a ServiceAccount left without a role because IAM
 * refused to create the derived role it needed (AccessDenied, or throttling
 * past the retries); the next run tries again.
 */
export const ROLE_NOT_CREATED_REASON = 'DerivedRoleNotCreated';

/** Every reason a refused ServiceAccount's Event (and the refusal metric) may give. */
export const REPORTED_REFUSAL_REASONS: readonly string[] = [
  ...REFUSAL_REASONS,
  ROLE_QUOTA_EXCEEDED_REASON,
  ROLE_NOT_CREATED_REASON,
];

/** What IAM taught an earlier attempt of this pass by refusing a write. */
interface Learned {
  /** The trust-policy size IAM named when it refused a document as too large. */
  readonly trustPolicyQuota?: number;
  /** IAM refused CreateRole: the account holds as many roles as its quota allows. */
  readonly roleQuota?: RoleQuotaExceededError;
  /** Derived names CreateRole found taken by roles the seed does not own. */
  readonly takenRoleNames?: readonly string[];
  /** IAM refused CreateRole otherwise (AccessDenied, throttling): this pass creates no role. */
  readonly createRefused?: RoleCreationRefusedError;
}

export interface ListedServiceAccount extends ServiceAccountState {
  readonly uid: string;
}

/**
 * One level-triggered pass over one seed: read the seed, its derived roles and
 * the ServiceAccounts that name it, plan, write IAM first (so a role trusts a
 * subject before its ServiceAccount points at it), then annotate, then tell
 * users what was refused, then release the Jobs the gate holds. Running it
 * twice changes nothing the second time.
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

/**
 * The pass as a sequence of named steps; each step owns its invariant and
 * hands the next what it established. A step that learns the pass must start
 * over (IAM refused a write) says so instead of throwing.
 */
async function reconcilePass(
  deps: ReconcileDeps,
  seedEnv: SeedEnv,
  options: ReconcileOptions,
  learned: Learned,
): Promise<ReconcileResult> {
  const read = await readStep(deps, seedEnv, options, learned);
  const planned = planStep(read, options, deps.now());
  const written = await writeStep(deps.iam, read, planned, learned);
  if ('retry' in written) return reconcilePass(deps, seedEnv, options, written.retry);
  const proven = await proveStep(deps, read, planned, options);
  const annotated = await annotateStep(deps, read, planned, proven);
  const events =
    (await refuseStep(deps, read, planned)) + (await takenNameStep(deps, read, planned));
  const jobs = await releaseStep(deps, read, planned, annotated, options);
  return summarize(read, planned, written, annotated, events, jobs);
}

/** What the read step found: the seed as this pass plans it, and the state it plans against. */
interface SeedRead {
  readonly seedEnv: SeedEnv;
  readonly seedRole: SeedRoleRecord;
  readonly settings: SeedTagSettings;
  /** Trust-policy size quota in non-whitespace characters. */
  readonly quota: number;
  /** The seed as planned: its creation limit capped when the account's roles quota is reached. */
  readonly spec: SeedSpec;
  readonly roles: readonly ExistingRole[];
  readonly serviceAccounts: readonly ListedServiceAccount[];
  /** Clusters that could not be connected to; their ServiceAccounts above are the held ones. */
  readonly unreachable: readonly UnreachableCluster[];
  /** IAM refused CreateRole in an earlier attempt, and this pass therefore creates no role. */
  readonly roleQuota?: RoleQuotaExceededError;
  /** IAM refused CreateRole otherwise in an earlier attempt: no role is created this pass either. */
  readonly createRefused?: RoleCreationRefusedError;
  /** Derived names an earlier attempt found taken by roles the seed does not own: skipped. */
  readonly takenRoleNames: readonly string[];
  /** aws-credential-manager's roles of the seed at `/`: occupied names, never written. */
  readonly managerRoles: readonly ManagerRoleFound[];
  /** `cluster/namespace/name` → the manager's role ARN, for ServiceAccounts whose grant is left alone. */
  readonly keptByManager: ReadonlyMap<string, string>;
}

/**
 * Read: the seed role and its settings, the trust-policy quota (what IAM
 * taught an earlier attempt wins over the account summary), the derived roles
 * and the ServiceAccounts that name the seed.
 */
async function readStep(
  deps: ReconcileDeps,
  seedEnv: SeedEnv,
  options: ReconcileOptions,
  learned: Learned,
): Promise<SeedRead> {
  const seedRole = await deps.iam.getSeedRole(seedEnv.name);
  const settings = seedTagSettings(seedRole);
  const seed: SeedSpec = {
    name: seedEnv.name,
    arn: seedRole.arn,
    path: settings.derivedRolePath,
    clusters: seedEnv.clusters,
    conditionOperator: seedEnv.conditionOperator,
    roleCreationLimit: settings.roleCreationLimit,
  };
  // The quota, the derived roles, aws-credential-manager's roles and the ServiceAccounts
  // depend only on the seed role: read at once.
  const [quota, roles, atRoot, { serviceAccounts, unreachable }] = await Promise.all([
    learned.trustPolicyQuota ??
      deps.iam.getTrustPolicySizeQuota().then((q) => q ?? DEFAULT_TRUST_POLICY_QUOTA),
    readDerivedRoles(deps.iam, seed),
    findManagerRoles(deps.iam, seed.name, MANAGER_PATH),
    readServiceAccounts(
      deps,
      seed,
      watchedNamespaces(settings.allowedNamespaces, options),
      options,
    ),
  ]);
  // A full account admits no new role this pass: planning with the roles that
  // exist as the limit fills them and refuses the rest, instead of failing the
  // whole pass (and every pass after it) on the first CreateRole.
  // The same holds when IAM refused the creation otherwise (AccessDenied, throttling): the
  // roles that exist still work, so what fits them is granted now.
  const creationRefused = learned.roleQuota !== undefined || learned.createRefused !== undefined;
  const quotaBound = creationRefused && roles.length < settings.roleCreationLimit;
  const spec: SeedSpec = quotaBound ? { ...seed, roleCreationLimit: roles.length } : seed;
  // An unreachable cluster's subjects stay where the roles hold them: not seen is not gone.
  const held = heldServiceAccounts(
    spec,
    roles,
    unreachable.map((u) => u.cluster),
  ).map((sa) => ({ ...sa, uid: '' }));
  const manager = splitManagerGrants(seed, atRoot.found, serviceAccounts);
  return {
    seedEnv,
    seedRole,
    settings,
    quota,
    spec,
    roles,
    serviceAccounts: [...manager.planned, ...held],
    unreachable,
    takenRoleNames: learned.takenRoleNames ?? [],
    managerRoles: manager.roles,
    keptByManager: manager.keptByManager,
    ...(quotaBound && learned.roleQuota !== undefined ? { roleQuota: learned.roleQuota } : {}),
    ...(quotaBound && learned.createRefused !== undefined
      ? { createRefused: learned.createRefused }
      : {}),
  };
}

/** The plan, with each refusal worded for the limit that really caused it. */
interface SeedPlan {
  readonly plan: Plan;
  /** The Event reason of a refusal: the planner's, or the roles quota's when that capped the pass. */
  readonly reasonOf: (refusal: Refusal) => string;
  /** Refusals that only the account's roles quota explains (they wait for room, not for the seed's limit). */
  readonly heldByQuota: number;
}

/** Plan: the pure planner's answer, worded for the limit this pass imposed. */
function planStep(read: SeedRead, options: ReconcileOptions, now: Date): SeedPlan {
  const planned = plan({
    seeds: [read.spec],
    allowedNamespaces: read.settings.allowedNamespaces,
    quota: read.quota,
    emptyRoleGracePeriodSeconds: options.emptyRoleGracePeriodSeconds,
    now: now.toISOString(),
    roles: read.roles,
    serviceAccounts: read.serviceAccounts,
    foreignRoleNames: [...read.takenRoleNames, ...read.managerRoles.map((r) => r.name)],
    managerRoleNames: read.managerRoles.map((r) => r.name),
  });
  const { roleQuota, createRefused } = read;
  const cap =
    roleQuota !== undefined
      ? {
          reason: ROLE_QUOTA_EXCEEDED_REASON,
          message: roleQuotaMessage(read.seedEnv.name, roleQuota),
        }
      : createRefused !== undefined
        ? {
            reason: ROLE_NOT_CREATED_REASON,
            message: roleNotCreatedMessage(read.seedEnv.name, createRefused),
          }
        : undefined;
  if (cap === undefined) return { plan: planned, reasonOf: (r) => r.reason, heldByQuota: 0 };
  // Only the cap this pass imposed explains these; past the seed's own limit its message stands.
  const byQuota = (r: Refusal): boolean => r.reason === 'DerivedRoleLimitReached';
  return {
    plan: {
      ...planned,
      refusals: planned.refusals.map((r) => (byQuota(r) ? { ...r, message: cap.message } : r)),
    },
    // The plan keeps the planner's reason; Events and Jobs say what really stopped it.
    reasonOf: (r) => (byQuota(r) ? cap.reason : r.reason),
    heldByQuota: planned.refusals.filter(byQuota).length,
  };
}

/** What the write step did to IAM. */
interface IamWritten {
  /** Roles that only had the seed's policies re-attached. */
  readonly repaired: readonly string[];
}

/**
 * Write: IAM first, so a role trusts a subject before its ServiceAccount
 * points at it, and every role about to be named carries the seed's policies.
 * A refusal IAM explains (trust policy too large for a smaller quota than
 * promised, account full of roles) asks for the pass to start over knowing it.
 */
async function writeStep(
  iam: IamPort,
  read: SeedRead,
  planned: SeedPlan,
  learned: Learned,
): Promise<IamWritten | { readonly retry: Learned }> {
  const { seedRole } = read;
  try {
    await applyIamWrites(iam, planned.plan, seedRole.description, {
      maxSessionDurationSeconds: seedRole.maxSessionDurationSeconds,
      permissionsBoundaryArn: seedRole.permissionsBoundaryArn,
      policyArns: seedRole.attachedPolicyArns,
      seedName: read.seedEnv.name,
    });
    return {
      repaired: await completeRolesToAnnotate(iam, planned.plan, seedRole.attachedPolicyArns),
    };
  } catch (error) {
    if (
      error instanceof TrustPolicyQuotaExceededError &&
      error.quota !== undefined &&
      error.quota < read.quota
    ) {
      return { retry: { ...learned, trustPolicyQuota: error.quota } };
    }
    // Roles created before the refusal are in IAM now: the next attempt reads
    // them back, grants what they hold, and creates nothing more.
    if (error instanceof RoleQuotaExceededError && learned.roleQuota === undefined) {
      return { retry: { ...learned, roleQuota: error } };
    }
    // Denied or throttled: the roles that exist still work, so the next attempt
    // creates none and grants what fits them; the next run tries the creation again.
    if (error instanceof RoleCreationRefusedError && learned.createRefused === undefined) {
      return { retry: { ...learned, createRefused: error } };
    }
    // A foreign role holds the name: the next attempt plans around it, so the
    // ServiceAccounts that fit roles that exist are still granted and annotated
    // (each retry learns one more name, so the pass ends).
    const taken = learned.takenRoleNames ?? [];
    if (error instanceof RoleAlreadyExistsError && !taken.includes(error.roleName)) {
      return { retry: { ...learned, takenRoleNames: [...taken, error.roleName] } };
    }
    throw error;
  }
}

/** What the prove step learned, per role ARN; roles absent were not asked (no proof configured). */
type Proven = ReadonlyMap<string, RoleProof>;

/**
 * Prove: before any ServiceAccount is pointed at a role, IAM must accept a
 * token of one ServiceAccount that role version trusts. KubeStash (since
 * v2026.4.27) unsuspends a Job the moment its ServiceAccount carries
 * `eks.amazonaws.com/role-arn`, so the annotation is the go signal for both
 * controllers, and it must not be given before IAM would honour it. One
 * proof per role about to gain annotations, not one per Job.
 */
async function proveStep(
  deps: ReconcileDeps,
  read: SeedRead,
  planned: SeedPlan,
  options: ReconcileOptions,
): Promise<Proven> {
  const proof = options.gate?.proof;
  if (proof === undefined || deps.webIdentity === undefined) return new Map();
  const byRole = new Map<string, Assignment[]>();
  const reachable = reachableFilter(read);
  for (const a of planned.plan.assignments.filter((x) => x.annotate && reachable(x))) {
    byRole.set(a.roleArn, [...(byRole.get(a.roleArn) ?? []), a]);
  }
  return proveRoles(
    {
      kubernetes: deps.kubernetes,
      webIdentity: deps.webIdentity,
      now: deps.now,
      sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    },
    [...byRole].map(([roleArn, serviceAccounts]) => ({ roleArn, serviceAccounts })),
    proof,
  );
}

/** What the annotate step wrote to Kubernetes. */
interface Annotated {
  readonly annotated: number;
  /** `cluster/namespace/name` of each ServiceAccount that carries its role ARN now, and that ARN. */
  readonly granted: ReadonlyMap<string, string>;
  /** Placed in a role whose proof failed: not annotated, its Jobs wait with this reason. */
  readonly unproven: ReadonlyMap<string, { readonly reason: string; readonly message: string }>;
  /** Placed in a role not proven in this pass's time: not annotated, its Jobs wait quietly. */
  readonly deferred: ReadonlySet<string>;
}

/**
 * Annotate: point each newly placed ServiceAccount at its role. Runs only
 * after the write step, so the role already trusts it, and only for roles
 * the prove step proved (or when no proof is configured). The write is bound
 * to the uid that was read: a ServiceAccount deleted (or re-created)
 * meanwhile is left for the next pass, which sees the truth.
 */
async function annotateStep(
  deps: ReconcileDeps,
  read: SeedRead,
  planned: SeedPlan,
  proven: Proven,
): Promise<Annotated> {
  const byKey = new Map(read.serviceAccounts.map((sa) => [keyOf(sa), sa]));
  const { assignments } = planned.plan;
  const granted = new Map(assignments.filter((x) => !x.annotate).map((x) => [keyOf(x), x.roleArn]));
  const unproven = new Map<string, { reason: string; message: string }>();
  const deferred = new Set<string>();
  const reachable = reachableFilter(read);
  const toAnnotate: (typeof assignments)[number][] = [];
  for (const a of assignments.filter((x) => x.annotate && reachable(x))) {
    const proof = proven.get(a.roleArn);
    if (proof?.kind === 'deferred') {
      deferred.add(keyOf(a));
      continue;
    }
    if (proof?.kind === 'denied') {
      unproven.set(keyOf(a), {
        reason: 'AccessNotYetProven',
        // Stable text (no counts that change): the Event is recorded once, not on every pass.
        message: `IAM does not yet let ServiceAccount ${a.name} assume ${a.roleArn} (${proof.reason}); trust policies can take a minute to propagate, so the ServiceAccount is not annotated yet, the Job stays suspended and the next reconcile tries again`,
      });
      continue;
    }
    toAnnotate.push(a);
  }
  // Each write is bound to its own ServiceAccount's uid: they are independent, so they overlap.
  const written = await annotateServiceAccounts(
    deps.kubernetes,
    toAnnotate.map((a) => ({
      cluster: a.cluster,
      namespace: a.namespace,
      name: a.name,
      annotations: { [ROLE_ARN_ANNOTATION]: a.roleArn },
      uid: byKey.get(keyOf(a))?.uid,
      roleArn: a.roleArn,
    })),
  );
  for (const w of written) granted.set(keyOf(w), w.roleArn);
  return { annotated: written.length, granted, unproven, deferred };
}

/**
 * Refuse: a Warning Event on each refused ServiceAccount, saying why and what
 * to do. Returns how many Events were recorded.
 */
async function refuseStep(deps: ReconcileDeps, read: SeedRead, planned: SeedPlan): Promise<number> {
  const byKey = new Map(read.serviceAccounts.map((sa) => [keyOf(sa), sa]));
  let events = 0;
  const reachable = reachableFilter(read);
  for (const r of planned.plan.refusals.filter(reachable)) {
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
        reason: planned.reasonOf(r),
        message: r.message,
        type: 'Warning',
      });
      events++;
    } catch (error) {
      if (!(error instanceof KubernetesNotFoundError)) throw error;
    }
  }
  return events;
}

/**
 * The Event reason on a ServiceAccount placed in another derived role because
 * the name it would have got is taken by a role the seed does not own.
 */
export const ROLE_NAME_TAKEN_REASON = 'DerivedRoleNameTaken';

/**
 * Taken names: a Warning Event on each ServiceAccount this pass placed in a
 * role it created, when CreateRole found a derived name taken by a role the
 * seed does not own (IAM role names are unique in the account ignoring path
 * and case). Those are the objects the skipped name moved, and `kubectl
 * describe` on them says which name and what to do. The text is stable, so a
 * repeat is recorded once. Returns how many Events were recorded.
 */
async function takenNameStep(
  deps: ReconcileDeps,
  read: SeedRead,
  planned: SeedPlan,
): Promise<number> {
  if (read.takenRoleNames.length === 0) return 0;
  const byKey = new Map(read.serviceAccounts.map((sa) => [keyOf(sa), sa]));
  const created = new Set(planned.plan.creates.map((c) => c.roleName));
  const reachable = reachableFilter(read);
  const taken = read.takenRoleNames.join(', ');
  let events = 0;
  for (const a of planned.plan.assignments) {
    const sa = byKey.get(keyOf(a));
    if (!a.annotate || !created.has(a.roleName) || !reachable(a) || sa === undefined) continue;
    try {
      const outcome = await deps.kubernetes(a.cluster).createEvent({
        involvedObject: {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          namespace: a.namespace,
          name: a.name,
          uid: sa.uid,
        },
        reason: ROLE_NAME_TAKEN_REASON,
        message: `The derived role name ${taken} of seed ${read.seedEnv.name} is taken by an IAM role the seed does not own (role names are unique in the account ignoring path and case), so this ServiceAccount was placed in ${a.roleName} instead and the seed can create one role fewer per taken name. Rename or delete that foreign role to free the name`,
        type: 'Warning',
      });
      if (outcome === 'created') events++;
    } catch (error) {
      if (!(error instanceof KubernetesNotFoundError)) throw error;
    }
  }
  return events;
}

/**
 * Release: unsuspend the Jobs the gate holds whose ServiceAccount is granted,
 * and tell the others why they wait. Nothing without a gate.
 */
async function releaseStep(
  deps: ReconcileDeps,
  read: SeedRead,
  planned: SeedPlan,
  annotated: Annotated,
  options: ReconcileOptions,
): Promise<ReleaseOutcome | undefined> {
  if (options.gate === undefined) return undefined;
  return releaseGatedJobs(
    { kubernetes: deps.kubernetes, now: deps.now },
    {
      clusters: read.spec.clusters
        .map((c) => c.name)
        .filter((name) => reachableFilter(read)({ cluster: name })),
      namespaces: watchedNamespaces(read.settings.allowedNamespaces, options),
      // A grant left to the manager works: its Job is released like one of ours.
      granted: new Map([...read.keptByManager, ...annotated.granted]),
      proven: options.gate.proof !== undefined && deps.webIdentity !== undefined,
      unproven: annotated.unproven,
      deferred: annotated.deferred,
      refused: new Map(
        planned.plan.refusals.map((r) => [
          keyOf(r),
          { reason: planned.reasonOf(r), message: r.message },
        ]),
      ),
      otherSeeds: options.otherSeeds,
      reportOrphans: options.reportUnknownSeeds,
      podIdentityClusters: options.podIdentityClusters,
    },
    options.gate,
  );
}

/** The pass's result, from what each step reported. */
function summarize(
  read: SeedRead,
  planned: SeedPlan,
  written: IamWritten,
  annotated: Annotated,
  events: number,
  released: ReleaseOutcome | undefined,
): ReconcileResult {
  const jobs = released?.counts;
  const result = planned.plan;
  const { roleQuota, createRefused, settings } = read;
  const refusedByReason: Record<string, number> = {};
  for (const r of result.refusals) {
    const reason = planned.reasonOf(r);
    refusedByReason[reason] = (refusedByReason[reason] ?? 0) + 1;
  }
  return {
    plan: result,
    created: result.creates.length,
    // A role that only had its policies re-attached was written too.
    updated: result.updates.length + written.repaired.length,
    deleted: result.deletes.length,
    annotated: annotated.annotated,
    events,
    derivedRoles: read.roles.length + result.creates.length - result.deletes.length,
    roleCreationLimit: settings.roleCreationLimit,
    refusedByReason,
    warnings: [
      ...settings.warnings,
      ...written.repaired.map(
        (name) =>
          `${name} lacked some of the seed's policies (a run stopped between CreateRole and AttachRolePolicy); attached them before annotating`,
      ),
      ...read.takenRoleNames.map(
        (name) =>
          `CreateRole ${name}: the name is taken by a role ${read.seedEnv.name} does not own (IAM role names are unique in the account ignoring path and case); skipped that index. Rename or delete that role to free the name`,
      ),
      ...(roleQuota === undefined
        ? []
        : [
            `IAM refused to create a derived role (${roleQuota.message}); created none this pass and refused ${planned.heldByQuota} ServiceAccount(s) with ${ROLE_QUOTA_EXCEEDED_REASON}: raise the IAM quota "Roles per account" (Service Quotas, L-FE177D64) or delete roles the account no longer uses`,
          ]),
      ...(createRefused === undefined
        ? []
        : [
            `${createRefused.message}; created no role this pass, granted what fits the roles that exist and refused ${planned.heldByQuota} ServiceAccount(s) with ${ROLE_NOT_CREATED_REASON}; the next run tries again`,
          ]),
    ],
    ...(roleQuota === undefined ? {} : { roleQuotaExceeded: roleQuota.message }),
    ...(createRefused === undefined ? {} : { retryLater: createRefused.message }),
    ...(read.takenRoleNames.length === 0 ? {} : { takenRoleNames: read.takenRoleNames }),
    ...(read.managerRoles.length === 0
      ? {}
      : {
          managerRoles: read.managerRoles.map((r) => r.name),
          leftToManager: read.keptByManager.size,
        }),
    ...(jobs === undefined ? {} : { jobs }),
    ...(released === undefined
      ? {}
      : {
          gateJobs: {
            marked: released.marked,
            heldNow: released.heldNow,
            complete: read.unreachable.length === 0,
          },
        }),
    unreachableClusters: read.unreachable,
  };
}

/** Whether an item is on a cluster this pass could connect to (no writes anywhere else). */
function reachableFilter(read: SeedRead): (item: { readonly cluster: string }) => boolean {
  const unreachable = new Set(read.unreachable.map((u) => u.cluster));
  return (item) => !unreachable.has(item.cluster);
}

/**
 * The Event text for a ServiceAccount the account's roles quota left waiting.
 * It must not change from pass to pass (no counts, no times): the Event's name
 * is derived from it, so the same refusal is recorded once, not once per pass.
 */
function roleNotCreatedMessage(seed: string, error: RoleCreationRefusedError): string {
  return `IAM refused to create derived role ${error.roleName} of seed ${seed} (${error.code}): ${error.code === 'AccessDenied' ? "the reconciler's role, its permissions boundary or a service control policy denies iam:CreateRole; allow it for the seed's derived-role path" : 'IAM throttled the reconciler past its retries'}. The roles that exist keep working; this ServiceAccount is granted once a role can be created, and the reconciler tries again on its next run. The Job stays suspended until then`;
}

function roleQuotaMessage(seed: string, error: RoleQuotaExceededError): string {
  return `IAM refused to create another derived role of seed ${seed}: the AWS account holds as many IAM roles as its quota allows (${error.message}). Raise the quota "Roles per account" (Service Quotas, IAM, L-FE177D64) or delete IAM roles the account no longer uses; the next pass grants this ServiceAccount once a role can be created. The Job stays suspended until then`;
}

/**
 * Where aws-credential-manager creates its roles: it calls CreateRole without
 * a Path (docs/migration.md, "What the manager leaves behind").
 */
const MANAGER_PATH = '/';

/**
 * Splits the listed ServiceAccounts into those the pass plans and those whose
 * working grant from aws-credential-manager is left alone
 * ({@link keptManagerRole}): the latter get no subject in this project's roles
 * and no annotation, and their Jobs count as granted, until the
 * ServiceAccount is gone (docs/migration.md). The manager's roles themselves
 * are a known case of a taken derived name: the planner skips their indices
 * (foreignRoleNames) without the DerivedRoleNameTaken Event, which is for
 * names nobody expected to be taken. Any other role holding a derived name
 * (at `/` or elsewhere) is still learned from CreateRole's EntityAlreadyExists.
 * Pure.
 */
function splitManagerGrants(
  seed: SeedSpec,
  managerRoles: readonly ManagerRoleFound[],
  serviceAccounts: readonly ListedServiceAccount[],
): {
  roles: readonly ManagerRoleFound[];
  planned: ListedServiceAccount[];
  keptByManager: Map<string, string>;
} {
  const provider = (cluster: string) => seed.clusters.find((c) => c.name === cluster)?.providerArn;
  const planned: ListedServiceAccount[] = [];
  const keptByManager = new Map<string, string>();
  for (const sa of serviceAccounts) {
    const kept = keptManagerRole(sa, provider, managerRoles);
    if (kept === undefined) planned.push(sa);
    else keptByManager.set(keyOf(sa), kept.arn);
  }
  return { roles: managerRoles, planned, keptByManager };
}

/** The seed's derived roles under its path, with the tags of the ones that look empty. */
export async function readDerivedRoles(
  iam: Pick<IamPort, 'listRolesUnderPath' | 'getRoleTags'>,
  seed: SeedSpec,
): Promise<ExistingRole[]> {
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

/**
 * The ServiceAccounts that name the seed, cluster by cluster. A cluster that
 * cannot be connected to is reported instead of failing the pass, and what
 * was listed of it before is dropped (the pass holds its grants as they are).
 */
export async function readServiceAccounts(
  deps: { readonly kubernetes: (cluster: string) => Pick<KubernetesPort, 'listServiceAccounts'> },
  seed: SeedSpec,
  namespaces: readonly string[],
  options: Pick<ReconcileOptions, 'otherSeeds' | 'reportUnknownSeeds'>,
): Promise<{ serviceAccounts: ListedServiceAccount[]; unreachable: UnreachableCluster[] }> {
  const serviceAccounts: ListedServiceAccount[] = [];
  const unreachable: UnreachableCluster[] = [];
  const read = await Promise.all(
    seed.clusters.map(async (cluster): Promise<ListedServiceAccount[] | UnreachableCluster> => {
      try {
        return await readClusterServiceAccounts(deps, seed, cluster.name, namespaces, options);
      } catch (error) {
        if (!(error instanceof KubernetesUnreachableError)) throw error;
        return {
          cluster: cluster.name,
          code: error.code,
          likelyCause: error.likelyCause,
          message: error.message,
        };
      }
    }),
  );
  // In the seed's cluster order, whichever cluster answered first.
  for (const one of read) {
    if (Array.isArray(one)) serviceAccounts.push(...one);
    else unreachable.push(one);
  }
  return { serviceAccounts, unreachable };
}

async function readClusterServiceAccounts(
  deps: { readonly kubernetes: (cluster: string) => Pick<KubernetesPort, 'listServiceAccounts'> },
  seed: SeedSpec,
  cluster: string,
  namespaces: readonly string[],
  options: Pick<ReconcileOptions, 'otherSeeds' | 'reportUnknownSeeds'>,
): Promise<ListedServiceAccount[]> {
  const out: ListedServiceAccount[] = [];
  const lists = await onApiServers(namespaces, async (namespace) => ({
    namespace,
    items: await deps.kubernetes(cluster).listServiceAccounts(namespace),
  }));
  for (const { namespace, items } of lists) {
    for (const sa of items) {
      const seedRole = sa.annotations[SEED_ROLE_ANNOTATION];
      if (seedRole === undefined || sa.deletionTimestamp !== undefined) continue;
      const mine = seedRole === seed.arn || seedRole === seed.name;
      const named = seedNameOf(seedRole);
      const unknown = !mine && !options.otherSeeds.includes(named);
      if (!mine && !(unknown && options.reportUnknownSeeds)) continue;
      out.push({
        cluster,
        namespace,
        name: sa.name,
        uid: sa.uid,
        seedRole,
        roleArn: sa.annotations[ROLE_ARN_ANNOTATION],
      });
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

/** The seed's own namespaces, then the other watched ones, each once. */
function watchedNamespaces(own: readonly string[], options: ReconcileOptions): string[] {
  return [...new Set([...own, ...(options.watchedNamespaces ?? [])])];
}
