import { createHash } from 'node:crypto';
import { planAssociations, subjectKey } from '../domain/association-planner';
import type {
  AssociationPlan,
  AssociationRefusal,
  AssociationSubject,
  ExistingAssociation,
} from '../domain/association-planner';
import { seedNameOf } from '../domain/iam-names';
import {
  COMPONENT_LABEL,
  KUBESTASH_MANAGED_BY,
  KUBESTASH_POD_IDENTITY_ANNOTATION,
  MANAGED_BY_LABEL,
  POD_IDENTITY_ASSOCIATION_ANNOTATION,
  ROLE_ARN_ANNOTATION,
  SEED_ROLE_ANNOTATION,
  SESSION_COMPONENTS,
} from '../ports/annotations';
import type { IamPort } from '../ports/iam-port';
import type { KubernetesPort, ServiceAccountRecord } from '../ports/kubernetes-port';
import { KubernetesNotFoundError, KubernetesUnreachableError } from '../ports/kubernetes-port';
import type { PodIdentityPort } from '../ports/pod-identity-port';
import { AssociationExistsError, AssociationQuotaExceededError } from '../ports/pod-identity-port';
import { MANAGED_BY_TAG, MANAGED_BY_VALUE, SEED_TAG } from '../ports/tag-keys';
import { annotateServiceAccounts } from './annotate-service-accounts';
import { releaseGatedJobs } from './release-gated-jobs';
import type { GateJobs, ReleaseResult } from './release-gated-jobs';
import type { ReconcileOptions, UnreachableCluster } from './reconcile-seed';
import { seedTagSettings } from './reconciler-settings';
import type { SeedEnv } from './reconciler-settings';

export interface PodIdentityDeps {
  readonly iam: Pick<IamPort, 'getSeedRole'>;
  readonly eks: PodIdentityPort;
  readonly kubernetes: (cluster: string) => KubernetesPort;
  readonly now: () => Date;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface PodIdentityResult {
  readonly plan: AssociationPlan;
  /** EKS writes: CreatePodIdentityAssociation calls that made one. */
  readonly created: number;
  /** EKS writes: DeletePodIdentityAssociation calls. */
  readonly deleted: number;
  /** Kubernetes writes: ServiceAccounts marked with their association. */
  readonly annotated: number;
  readonly events: number;
  /** Creates EKS refused because the ServiceAccount had gained an association meanwhile. */
  readonly raced: number;
  /** Clusters where EKS refused a create for its quota although the config allowed it. */
  readonly quotaReached: readonly string[];
  /** How long the pass waited for new associations to take effect (ms). */
  readonly settleWaitMs: number;
  readonly jobs?: ReleaseResult;
  /** The gate's Jobs as the pass left them, and how to look again; undefined without a gate. */
  readonly gateJobs?: GateJobs;
  readonly unreachableClusters: readonly UnreachableCluster[];
  readonly warnings: readonly string[];
}

/**
 * One level-triggered pass over a pod-identity seed (docs/pod-identity.md):
 * read the eligible ServiceAccounts and every association of the seed's
 * clusters, plan with the pure planner, delete then create (EKS first, so an
 * association exists before anything points at it), wait until each
 * association has existed for the settle time, mark its ServiceAccount, tell
 * users what was refused, and release the Jobs the gate holds. Running it
 * twice changes nothing the second time. Clusters that cannot be reached keep
 * their associations untouched (not seen is not gone).
 */
export async function reconcilePodIdentitySeed(
  deps: PodIdentityDeps,
  seedEnv: SeedEnv,
  options: ReconcileOptions,
): Promise<PodIdentityResult> {
  const read = await readStep(deps, seedEnv);
  const plan = planAssociations({
    seed: seedEnv.name,
    roleArn: read.roleArn,
    eligible: read.eligible,
    existing: read.existing,
    quotas: seedEnv.podIdentity?.associationQuotas ?? {},
  });
  const written = await writeStep(deps, read, plan);
  const settleWaitMs = await settleStep(deps, seedEnv, written.granted);
  const annotated = await markStep(deps, read, written.granted);
  const events = await refuseStep(deps, read, written.refusals);
  const released =
    options.gate === undefined
      ? undefined
      : await releaseGatedJobs(
          { kubernetes: deps.kubernetes, now: deps.now },
          {
            clusters: read.reachable,
            namespaces: read.namespaces,
            granted: new Map(written.granted.map((g) => [subjectKey(g), read.roleArn])),
            proven: false,
            unproven: new Map(),
            deferred: new Set(),
            refused: new Map(
              written.refusals.map((r) => [
                subjectKey(r),
                { reason: r.reason, message: r.message },
              ]),
            ),
            otherSeeds: options.otherSeeds,
            // Keys are subjectKey's `cluster/namespace/name`, as the release step's keyOf.
            // No seed annotation on these ServiceAccounts: an unknown one is the next pass's, not an orphan.
            reportOrphans: false,
          },
          options.gate,
        );
  return {
    plan,
    created: written.created,
    deleted: written.deleted,
    annotated,
    events,
    raced: written.raced,
    quotaReached: written.quotaReached,
    settleWaitMs,
    ...(released === undefined
      ? {}
      : {
          jobs: released.counts,
          gateJobs: {
            marked: released.marked,
            heldNow: released.heldNow,
            complete: read.unreachable.length === 0,
          },
        }),
    unreachableClusters: read.unreachable,
    warnings: read.warnings,
  };
}

interface PodIdentityRead {
  readonly seedName: string;
  readonly roleArn: string;
  readonly namespaces: readonly string[];
  readonly reachable: readonly string[];
  readonly unreachable: readonly UnreachableCluster[];
  readonly eligible: readonly AssociationSubject[];
  /** The eligible ServiceAccounts as read (uid for write preconditions, annotations). */
  readonly accounts: ReadonlyMap<string, ServiceAccountRecord>;
  readonly existing: readonly ExistingAssociation[];
  readonly warnings: readonly string[];
}

/**
 * Read: the seed (its ARN, and the namespaces its tags allow), then per
 * cluster the eligible ServiceAccounts and every association. A cluster whose
 * API server cannot be reached is left out whole: its associations are
 * neither listed nor planned, so none is deleted for being unseen.
 */
async function readStep(deps: PodIdentityDeps, seedEnv: SeedEnv): Promise<PodIdentityRead> {
  const seedRole = await deps.iam.getSeedRole(seedEnv.name);
  const settings = seedTagSettings(seedRole);
  const reachable: string[] = [];
  const unreachable: UnreachableCluster[] = [];
  const eligible: AssociationSubject[] = [];
  const accounts = new Map<string, ServiceAccountRecord>();
  const existing: ExistingAssociation[] = [];
  for (const { name: cluster } of seedEnv.clusters) {
    let found: ServiceAccountRecord[];
    try {
      found = await eligibleServiceAccounts(
        deps.kubernetes(cluster),
        settings.allowedNamespaces,
        seedEnv.name,
        seedRole.arn,
      );
    } catch (error) {
      if (!(error instanceof KubernetesUnreachableError)) throw error;
      unreachable.push({
        cluster,
        code: error.code,
        likelyCause: error.likelyCause,
        message: error.message,
      });
      continue;
    }
    reachable.push(cluster);
    for (const sa of found) {
      const subject = { cluster, namespace: sa.namespace, serviceAccount: sa.name };
      eligible.push(subject);
      accounts.set(subjectKey(subject), sa);
    }
    for (const a of await deps.eks.listAssociations(cluster)) {
      existing.push({
        cluster,
        namespace: a.namespace,
        serviceAccount: a.serviceAccount,
        associationId: a.associationId,
        roleArn: a.roleArn,
        ours: a.tags[SEED_TAG] === seedEnv.name,
        createdAt: a.createdAt,
      });
    }
  }
  return {
    seedName: seedEnv.name,
    roleArn: seedRole.arn,
    namespaces: settings.allowedNamespaces,
    reachable,
    unreachable,
    eligible,
    accounts,
    existing,
    warnings: settings.warnings,
  };
}

/**
 * The ServiceAccounts of one cluster that get an association to the seed
 * (evidence in docs/pod-identity.md, "Which ServiceAccounts"): in an allowed
 * namespace, not being deleted, without an IRSA role of their own, naming no
 * other seed, and either (a) carrying KubeStash's Pod Identity annotation,
 * (b) naming this seed in `go.klusters.dev/seed-role-name`, or (c) being the
 * ServiceAccount of a KubeStash backup, retention or restore Job.
 */
async function eligibleServiceAccounts(
  k8s: KubernetesPort,
  namespaces: readonly string[],
  seedName: string,
  seedArn: string,
): Promise<ServiceAccountRecord[]> {
  const out: ServiceAccountRecord[] = [];
  for (const namespace of namespaces) {
    const sessionAccounts = new Set(
      (await k8s.listJobs(namespace, `${MANAGED_BY_LABEL}=${KUBESTASH_MANAGED_BY}`))
        .filter((job) => SESSION_COMPONENTS.has(job.labels[COMPONENT_LABEL] ?? ''))
        .map((job) => job.serviceAccountName),
    );
    for (const sa of await k8s.listServiceAccounts(namespace)) {
      if (sa.deletionTimestamp !== undefined) continue;
      if (sa.annotations[ROLE_ARN_ANNOTATION] !== undefined) continue;
      const seed = sa.annotations[SEED_ROLE_ANNOTATION];
      if (seed !== undefined && seed !== seedArn && seedNameOf(seed) !== seedName) continue;
      if (
        seed !== undefined ||
        sa.annotations[KUBESTASH_POD_IDENTITY_ANNOTATION] !== undefined ||
        sessionAccounts.has(sa.name)
      ) {
        out.push(sa);
      }
    }
  }
  return out;
}

/** A ServiceAccount with its association, as the pass leaves it. */
interface Granted extends AssociationSubject {
  readonly associationId: string;
  readonly createdAt: string;
}

interface Written {
  readonly granted: readonly Granted[];
  readonly refusals: readonly AssociationRefusal[];
  readonly created: number;
  readonly deleted: number;
  readonly raced: number;
  readonly quotaReached: readonly string[];
}

/**
 * Write: deletes first (they free quota), then one create per new
 * ServiceAccount, tagged as the seed's and made idempotent by a token tied to
 * the ServiceAccount's uid. A create refused because the ServiceAccount has
 * one by now is left for the next pass; a create refused for the quota
 * refuses the rest of that cluster's creates too.
 */
async function writeStep(
  deps: PodIdentityDeps,
  read: PodIdentityRead,
  plan: AssociationPlan,
): Promise<Written> {
  let deleted = 0;
  for (const d of plan.deletes) {
    if ((await deps.eks.deleteAssociation(d.cluster, d.associationId)) === 'deleted') deleted++;
  }
  const granted: Granted[] = [...plan.granted];
  const refusals: AssociationRefusal[] = [...plan.refusals];
  const full = new Map<string, string>();
  let created = 0;
  let raced = 0;
  for (const c of plan.creates) {
    const refusedFor = full.get(c.cluster);
    if (refusedFor !== undefined) {
      refusals.push({ ...c, reason: 'AssociationQuotaReached', message: refusedFor });
      continue;
    }
    const uid = read.accounts.get(subjectKey(c))?.uid ?? '';
    try {
      const made = await deps.eks.createAssociation(c.cluster, {
        namespace: c.namespace,
        serviceAccount: c.serviceAccount,
        roleArn: read.roleArn,
        tags: { [SEED_TAG]: read.seedName, [MANAGED_BY_TAG]: MANAGED_BY_VALUE },
        clientRequestToken: requestToken(read.roleArn, c, uid),
      });
      created++;
      granted.push({ ...c, associationId: made.associationId, createdAt: made.createdAt });
    } catch (error) {
      if (error instanceof AssociationExistsError) {
        raced++;
        continue;
      }
      if (error instanceof AssociationQuotaExceededError) {
        const message = `EKS refused another Pod Identity association in cluster ${c.cluster} (${error.message}), below the configured quota: set clusters[].podIdentity.associationQuota to the quota Service Quotas shows, raise it there, or delete associations the cluster no longer uses. The next pass tries again; the Job stays suspended until then`;
        full.set(c.cluster, message);
        refusals.push({ ...c, reason: 'AssociationQuotaReached', message });
        continue;
      }
      throw error;
    }
  }
  return { granted, refusals, created, deleted, raced, quotaReached: [...full.keys()] };
}

/**
 * EKS's idempotency token for one ServiceAccount's association: the same for
 * a retry of the same ServiceAccount (so a create whose answer was lost
 * returns the first association), different for a re-created one (new uid).
 */
export function requestToken(roleArn: string, sa: AssociationSubject, uid: string): string {
  const digest = createHash('sha256')
    .update([roleArn, sa.cluster, sa.namespace, sa.serviceAccount, uid].join('\n'))
    .digest('hex');
  return `kubestash-irsa-${digest.slice(0, 40)}`;
}

/**
 * Settle: EKS associations are eventually consistent ("may take several
 * seconds to be effective after the initial API call returns",
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_CreatePodIdentityAssociation.html),
 * and the credentials are fetched by the node's agent through
 * `eks-auth:AssumeRoleForPodIdentity`, which only the agent may call: no
 * probe of ours can prove it. So the pass waits, once, until the youngest
 * association has existed for the settle time; an older one costs nothing.
 */
async function settleStep(
  deps: PodIdentityDeps,
  seedEnv: SeedEnv,
  granted: readonly Granted[],
): Promise<number> {
  const settleMs = (seedEnv.podIdentity?.settleSeconds ?? 10) * 1000;
  const youngest = Math.max(0, ...granted.map((g) => Date.parse(g.createdAt) || 0));
  const wait = Math.min(settleMs, youngest + settleMs - deps.now().getTime());
  if (wait <= 0) return 0;
  await (deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(wait);
  return wait;
}

/**
 * Mark: each granted ServiceAccount carries its association ID, so the gate
 * lets its later Jobs pass unheld. Bound to the uid that was read; a
 * ServiceAccount deleted meanwhile is the next pass's.
 */
async function markStep(
  deps: PodIdentityDeps,
  read: PodIdentityRead,
  granted: readonly Granted[],
): Promise<number> {
  const toMark = granted.flatMap((g) => {
    const sa = read.accounts.get(subjectKey(g));
    return sa === undefined ||
      sa.annotations[POD_IDENTITY_ASSOCIATION_ANNOTATION] === g.associationId
      ? []
      : [
          {
            cluster: g.cluster,
            namespace: g.namespace,
            name: g.serviceAccount,
            annotations: { [POD_IDENTITY_ASSOCIATION_ANNOTATION]: g.associationId },
            uid: sa.uid,
          },
        ];
  });
  // Independent writes, several at a time (as the IRSA pass's annotate step).
  return (await annotateServiceAccounts(deps.kubernetes, toMark)).length;
}

/** Refuse: a Warning Event on each refused ServiceAccount, with the reason and the fix. */
async function refuseStep(
  deps: PodIdentityDeps,
  read: PodIdentityRead,
  refusals: readonly AssociationRefusal[],
): Promise<number> {
  let events = 0;
  for (const r of refusals) {
    const sa = read.accounts.get(subjectKey(r));
    if (sa === undefined) continue;
    try {
      const outcome = await deps.kubernetes(r.cluster).createEvent({
        involvedObject: {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          namespace: r.namespace,
          name: r.serviceAccount,
          uid: sa.uid,
        },
        reason: r.reason,
        message: r.message,
        type: 'Warning',
      });
      if (outcome === 'created') events++;
    } catch (error) {
      if (!(error instanceof KubernetesNotFoundError)) throw error;
    }
  }
  return events;
}
