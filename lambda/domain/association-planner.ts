/**
 * The pure planner of pod-identity mode (docs/pod-identity.md): which EKS Pod
 * Identity associations to create and delete so that every eligible
 * ServiceAccount has exactly one association to the seed role, and nothing
 * else of ours exists. No I/O; the reconcile pass reads, this decides, the
 * pass writes.
 *
 * Facts it respects, with their source:
 * - One association per (cluster, namespace, ServiceAccount): a second
 *   CreatePodIdentityAssociation for it is refused with ResourceInUseException
 *   (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreatePodIdentityAssociation.html).
 * - Each cluster holds at most its quota of associations, all owners counted
 *   (5,000 by default: https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html).
 */

/** A ServiceAccount, as associations name it. */
export interface AssociationSubject {
  readonly cluster: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** An association EKS holds, as far as the planner needs it. */
export interface ExistingAssociation extends AssociationSubject {
  readonly associationId: string;
  /** The role it maps the ServiceAccount to. */
  readonly roleArn: string;
  /** It carries this seed's tags: this reconciler made it and may delete it. */
  readonly ours: boolean;
  /** ISO 8601; when EKS created it (its effect lags by seconds). */
  readonly createdAt: string;
}

export interface AssociationPlanInput {
  readonly seed: string;
  /** The seed role every association of this seed names. */
  readonly roleArn: string;
  /** ServiceAccounts that should have an association to the seed role. */
  readonly eligible: readonly AssociationSubject[];
  /** Every association of the reachable clusters (ours and everyone else's). */
  readonly existing: readonly ExistingAssociation[];
  /** Associations each cluster may hold in all; a cluster absent here has none to spare. */
  readonly quotas: Readonly<Record<string, number>>;
}

export type AssociationRefusalReason = 'AssociationQuotaReached' | 'ForeignAssociation';

export interface AssociationRefusal extends AssociationSubject {
  readonly reason: AssociationRefusalReason;
  /** Stable text (no counts that change pass to pass): the Event is recorded once. */
  readonly message: string;
}

export interface AssociationDelete extends AssociationSubject {
  readonly associationId: string;
  readonly why: 'ServiceAccountGone' | 'WrongRole';
}

/** A ServiceAccount that has its association already. */
export interface AssociationGrant extends AssociationSubject {
  readonly associationId: string;
  readonly createdAt: string;
}

export interface AssociationPlan {
  /** Applied first: they free quota for the creates. */
  readonly deletes: readonly AssociationDelete[];
  readonly creates: readonly AssociationSubject[];
  readonly granted: readonly AssociationGrant[];
  readonly refusals: readonly AssociationRefusal[];
}

/** `cluster/namespace/serviceAccount`. */
export function subjectKey(s: AssociationSubject): string {
  return `${s.cluster}/${s.namespace}/${s.serviceAccount}`;
}

/**
 * Plans the fewest EKS writes. Invariants (property-tested in
 * test/lambda/domain/association-planner.property.test.ts):
 * 1. Every eligible ServiceAccount is granted, created, or refused: exactly one.
 * 2. Only associations carrying the seed's tags are deleted, and only when
 *    their ServiceAccount is no longer eligible or they name another role.
 * 3. No cluster ends up above its quota; who is refused is decided in
 *    name order, so the same ServiceAccounts wait on every pass.
 * 4. Nothing to do on a second pass over the result (idempotence).
 */
export function planAssociations(input: AssociationPlanInput): AssociationPlan {
  const eligible = uniqueSorted(input.eligible);
  const wanted = new Set(eligible.map(subjectKey));
  const bySubject = new Map<string, ExistingAssociation[]>();
  for (const a of input.existing) {
    bySubject.set(subjectKey(a), [...(bySubject.get(subjectKey(a)) ?? []), a]);
  }

  const deletes: AssociationDelete[] = [];
  for (const a of input.existing) {
    if (!a.ours) continue;
    const gone = !wanted.has(subjectKey(a));
    if (gone || a.roleArn !== input.roleArn) {
      deletes.push({
        ...pick(a),
        associationId: a.associationId,
        why: gone ? 'ServiceAccountGone' : 'WrongRole',
      });
    }
  }
  const deleted = new Set(deletes.map((d) => d.associationId));

  const held = new Map<string, number>();
  for (const a of input.existing) {
    if (!deleted.has(a.associationId)) held.set(a.cluster, (held.get(a.cluster) ?? 0) + 1);
  }

  const creates: AssociationSubject[] = [];
  const granted: AssociationGrant[] = [];
  const refusals: AssociationRefusal[] = [];
  for (const sa of eligible) {
    const present = (bySubject.get(subjectKey(sa)) ?? []).filter(
      (a) => !deleted.has(a.associationId),
    );
    const mine = present.find((a) => a.roleArn === input.roleArn);
    if (mine !== undefined) {
      granted.push({ ...pick(sa), associationId: mine.associationId, createdAt: mine.createdAt });
      continue;
    }
    if (present.length > 0) {
      refusals.push({
        ...pick(sa),
        reason: 'ForeignAssociation',
        message: `ServiceAccount ${sa.namespace}/${sa.serviceAccount} already has an EKS Pod Identity association (${present[0].associationId}) to ${present[0].roleArn}, which kubestash-irsa did not make; EKS allows one per ServiceAccount, so it is left alone. Delete that association for seed ${input.seed} to take over`,
      });
      continue;
    }
    const count = held.get(sa.cluster) ?? 0;
    const quota = input.quotas[sa.cluster] ?? 0;
    if (count >= quota) {
      refusals.push({
        ...pick(sa),
        reason: 'AssociationQuotaReached',
        message: associationQuotaMessage(sa.cluster, quota),
      });
      continue;
    }
    held.set(sa.cluster, count + 1);
    creates.push(pick(sa));
  }
  return { deletes, creates, granted, refusals };
}

/**
 * The Event text for a ServiceAccount the cluster's association quota left
 * waiting. Stable from pass to pass (the Event's name derives from it).
 */
export function associationQuotaMessage(cluster: string, quota: number): string {
  return `cluster ${cluster} holds as many EKS Pod Identity associations as its quota allows (${quota}); raise the EKS quota "Pod Identity associations per cluster" in Service Quotas and set clusters[].podIdentity.associationQuota, or delete associations the cluster no longer uses. The next pass associates this ServiceAccount once there is room; the Job stays suspended until then`;
}

/** The subject alone (records carry more than a plan should repeat). */
function pick(s: AssociationSubject): AssociationSubject {
  return { cluster: s.cluster, namespace: s.namespace, serviceAccount: s.serviceAccount };
}

function uniqueSorted(subjects: readonly AssociationSubject[]): AssociationSubject[] {
  const byKey = new Map(subjects.map((s) => [subjectKey(s), pick(s)]));
  return [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, subject]) => subject);
}
