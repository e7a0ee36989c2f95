import { seedNameOf } from '../domain/iam-names';
import {
  ACCESS_CHECK_ANNOTATION,
  ACCESS_CHECK_SKIP,
  GATE_ANNOTATION,
  GATE_REASON_ANNOTATION,
  KUBESTASH_MANAGED_BY,
  MANAGED_BY_LABEL,
  ROLE_ARN_ANNOTATION,
  SEED_ROLE_ANNOTATION,
} from '../ports/annotations';
import type { JobRecord, KubernetesEventSpec, KubernetesPort } from '../ports/kubernetes-port';
import { KubernetesConflictError, KubernetesNotFoundError } from '../ports/kubernetes-port';
import { onApiServers } from './api-server-calls';
import type { ProofOptions } from './prove-roles';

export interface ReleaseOptions {
  /** A Job still held this long after its creation is marked `stuck`. */
  readonly stuckAfterSeconds: number;
  /** Prove each role version before its ServiceAccounts are annotated (the reconcile pass's prove step); off when undefined. */
  readonly proof?: ProofOptions;
}

export interface ReleaseDeps {
  readonly kubernetes: (cluster: string) => KubernetesPort;
  readonly now: () => Date;
}

/** `cluster/namespace/name`: how a ServiceAccount is keyed in the plan's results and here. */
export function keyOf(sa: {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
}): string {
  return `${sa.cluster}/${sa.namespace}/${sa.name}`;
}

export interface ReleaseInput {
  readonly clusters: readonly string[];
  readonly namespaces: readonly string[];
  /**
   * `cluster/namespace/name` of each ServiceAccount that carries its role ARN
   * now, and that ARN. The annotation is written only once the role version
   * is proven, so these Jobs are released without a proof of their own.
   */
  readonly granted: ReadonlyMap<string, string>;
  /** The annotations were written only after a proof (the release reason says so). */
  readonly proven: boolean;
  /** Placed in a role whose proof IAM refused this pass: the Job waits, with this reason on it. */
  readonly unproven: ReadonlyMap<string, { readonly reason: string; readonly message: string }>;
  /** Placed in a role the pass had no time to prove: the Job waits quietly for the next pass. */
  readonly deferred: ReadonlySet<string>;
  /** `cluster/namespace/name` of each refused ServiceAccount, and why. */
  readonly refused: ReadonlyMap<string, { readonly reason: string; readonly message: string }>;
  /** Other configured seeds: a Job whose ServiceAccount names one is that seed's to release. */
  readonly otherSeeds: readonly string[];
  /** Tell about Jobs whose ServiceAccount no seed serves (one seed's pass does, so once). */
  readonly reportOrphans: boolean;
  /**
   * Clusters a pod-identity seed serves: there a held Job whose ServiceAccount
   * names no seed is that seed's to release (its ServiceAccounts carry no seed
   * annotation), not an orphan to release without a role.
   * @default none
   */
  readonly podIdentityClusters?: readonly string[];
}

/**
 * The gate's Jobs as a pass left them, and how to look at them again: what
 * tells the handler whether a Job Gated hint still needs a pass.
 */
export interface GateJobs {
  /**
   * {@link jobKeyOf} of every Job the pass listed with the gate's mark and
   * judged (held, stuck or released); a Job gone or re-created under its name
   * while it was settled is not among them.
   */
  readonly marked: ReadonlySet<string>;
  /**
   * Lists the Jobs the gate holds now (held or stuck, not being deleted) in
   * the clusters and namespaces the pass looked at: one LIST of KubeStash's
   * Jobs per cluster and namespace, keys as in `marked`. Rejects with the
   * Kubernetes port's errors.
   */
  readonly heldNow: () => Promise<ReadonlySet<string>>;
  /**
   * The pass reached every cluster of the seed, so `heldNow` covers every
   * Job the gate may hold for it; when false a look proves nothing, and the
   * handler waits for a pass instead.
   */
  readonly complete: boolean;
}

/** What the release step did, and the gate's Jobs as it left them. */
export interface ReleaseOutcome extends Omit<GateJobs, 'complete'> {
  readonly counts: ReleaseResult;
}

/**
 * `cluster/namespace/name/uid` of a Job: a Job deleted and re-created under
 * its name is another Job (a new uid), one no pass has judged yet.
 */
export function jobKeyOf(
  cluster: string,
  job: Pick<JobRecord, 'namespace' | 'name' | 'uid'>,
): string {
  return `${keyOf({ cluster, namespace: job.namespace, name: job.name })}/${job.uid}`;
}

export interface ReleaseResult {
  readonly released: number;
  /**
   * Held Jobs someone else (KubeStash since v2026.4.27, once the ServiceAccount
   * carries its role ARN) had already unsuspended: recorded as released.
   */
  readonly releasedElsewhere: number;
  readonly held: number;
  readonly stuck: number;
  readonly events: number;
}

type Verdict =
  | { readonly kind: 'release'; readonly roleArn: string }
  /** Held although its ServiceAccount needs no role from this stack: released unchanged, and told why. */
  | { readonly kind: 'not-needed'; readonly reason: string; readonly message: string }
  | { readonly kind: 'hold'; readonly reason: string; readonly message: string }
  | { readonly kind: 'not-mine' }
  /** Out of proof time this pass: left as it is for the next. */
  | { readonly kind: 'deferred' };

/**
 * Releases the Jobs the gate holds once their ServiceAccount carries its role
 * ARN (written only after the role version was proven), and tells the story
 * of the others on the Job itself: an Event with the reason and the fix, and
 * past `stuckAfterSeconds` a `stuck` mark, so `kubectl describe job` says why
 * it waits. A held Job whose ServiceAccount turns out to need no role from
 * this stack is released unchanged, with an Event saying why and its access
 * check switched off. A held Job someone else already unsuspended (KubeStash
 * does once the role ARN appears) is recorded released, with no Warning.
 * Only Jobs the gate marked are touched; a Job deleted meanwhile is left alone.
 */
export async function releaseGatedJobs(
  deps: ReleaseDeps,
  input: ReleaseInput,
  options: ReleaseOptions,
): Promise<ReleaseOutcome> {
  const first = await listMarkedJobs(deps, input);
  // Jobs are settled independently: a burst of 50 costs a few API-server round trips, not 150 in a row.
  const settled = await onApiServers(first.held, (held) =>
    settleJob(deps, held.cluster, held.job, input, options),
  );
  const marked = new Set(first.marked);
  // A Job gone or re-created under its name while it was settled was not judged: the handler's
  // next look must not take it for one this pass saw.
  for (const one of settled) if (!one.judged) marked.delete(one.key);
  // A burst goes on while the pass runs (in AWS a pass takes seconds: its proof waits out IAM
  // propagation). Jobs stored since the list whose ServiceAccount this pass granted are released
  // now, not by the next pass. Only those: the others are judged, with their Events, by the
  // pass the handler runs when it sees them held (hint-watch.ts), so they stay out of `marked`.
  if (settled.some((one) => one.counts.released > 0)) {
    // Best effort: the pass's work is done; if this look fails, the handler's next look finds them.
    try {
      const late = await lateGrantedJobs(deps, input, first.marked);
      const done = await onApiServers(late, (held) =>
        settleJob(deps, held.cluster, held.job, input, options),
      );
      for (const one of done) if (one.judged) marked.add(one.key);
      settled.push(...done);
    } catch {
      // Nothing to undo: each write stands on its own; the handler's next look finds the late Jobs.
    }
  }
  const counts = { released: 0, releasedElsewhere: 0, held: 0, stuck: 0, events: 0 };
  for (const one of settled) {
    for (const key of Object.keys(counts) as (keyof ReleaseResult)[]) {
      counts[key] += one.counts[key];
    }
  }
  return {
    counts,
    marked,
    heldNow: async () =>
      new Set((await listMarkedJobs(deps, input)).held.map((h) => jobKeyOf(h.cluster, h.job))),
  };
}

/** Held Jobs listed now but not in `seen`, whose ServiceAccount the pass granted. */
async function lateGrantedJobs(
  deps: ReleaseDeps,
  input: ReleaseInput,
  seen: ReadonlySet<string>,
): Promise<{ readonly cluster: string; readonly job: JobRecord }[]> {
  const again = await listMarkedJobs(deps, input);
  return again.held.filter(({ cluster, job }) => {
    const key = jobKeyOf(cluster, job);
    const account = keyOf({ cluster, namespace: job.namespace, name: job.serviceAccountName });
    return !seen.has(key) && input.granted.has(account);
  });
}

/**
 * The KubeStash Jobs of the input's clusters and namespaces that carry the
 * gate's mark ({@link jobKeyOf}, in any state), and those of them it
 * holds (held or stuck, not being deleted).
 */
async function listMarkedJobs(
  deps: ReleaseDeps,
  input: ReleaseInput,
): Promise<{
  readonly marked: ReadonlySet<string>;
  readonly held: readonly { readonly cluster: string; readonly job: JobRecord }[];
}> {
  const held: { cluster: string; job: JobRecord }[] = [];
  const marked = new Set<string>();
  const listed = await onApiServers(
    input.clusters.flatMap((cluster) =>
      input.namespaces.map((namespace) => ({ cluster, namespace })),
    ),
    async ({ cluster, namespace }) => ({
      cluster,
      jobs: await deps
        .kubernetes(cluster)
        .listJobs(namespace, `${MANAGED_BY_LABEL}=${KUBESTASH_MANAGED_BY}`),
    }),
  );
  for (const { cluster, jobs } of listed) {
    for (const job of jobs) {
      const state = job.annotations[GATE_ANNOTATION];
      if (state !== undefined) marked.add(jobKeyOf(cluster, job));
      if ((state === 'held' || state === 'stuck') && job.deletionTimestamp === undefined) {
        held.push({ cluster, job });
      }
    }
  }
  return { marked, held };
}

/**
 * One held Job: recorded released when someone else unsuspended it, released
 * when its ServiceAccount has its role (or needs none), otherwise told why it
 * waits (and marked stuck past the limit). Returns what it did, as counts.
 */
async function settleJob(
  deps: ReleaseDeps,
  cluster: string,
  job: JobRecord,
  input: ReleaseInput,
  options: ReleaseOptions,
): Promise<SettledJob> {
  const key = jobKeyOf(cluster, job);
  const counts = await judgeAndSettle(deps, cluster, job, input, options);
  return counts === undefined
    ? { key, judged: false, counts: NOTHING_DONE }
    : { key, judged: true, counts };
}

/** What settling one Job did; `judged` is false when it was gone or re-created meanwhile. */
interface SettledJob {
  readonly key: string;
  readonly judged: boolean;
  readonly counts: ReleaseResult;
}

const NOTHING_DONE: ReleaseResult = {
  released: 0,
  releasedElsewhere: 0,
  held: 0,
  stuck: 0,
  events: 0,
};

/** The counts of what it did, undefined when the Job was deleted or re-created since it was listed. */
async function judgeAndSettle(
  deps: ReleaseDeps,
  cluster: string,
  job: JobRecord,
  input: ReleaseInput,
  options: ReleaseOptions,
): Promise<ReleaseResult | undefined> {
  const result = { released: 0, releasedElsewhere: 0, held: 0, stuck: 0, events: 0 };
  const k8s = deps.kubernetes(cluster);
  try {
    if (!job.suspended) {
      // Unsuspended by its other controller: the go signal both read is the proven role ARN.
      await k8s.setJobSuspended(job.namespace, job.name, false, {
        annotations: {
          [GATE_ANNOTATION]: 'released',
          [GATE_REASON_ANNOTATION]: `released by another controller (KubeStash unsuspends a Job once ServiceAccount ${job.serviceAccountName} carries ${ROLE_ARN_ANNOTATION})`,
        },
        preconditions: { uid: job.uid },
      });
      result.releasedElsewhere++;
      return result;
    }
    if (job.finished) return result;
    const verdict = await judge(k8s, cluster, job, input);
    if (verdict.kind === 'not-mine') return result;
    if (verdict.kind === 'deferred') {
      result.held++;
      return result;
    }
    if (verdict.kind === 'release' || verdict.kind === 'not-needed') {
      const why =
        verdict.kind === 'release'
          ? releaseReason(job, verdict.roleArn, input.proven)
          : `released without a role: ${verdict.message}`;
      await k8s.setJobSuspended(job.namespace, job.name, false, {
        annotations: { [GATE_ANNOTATION]: 'released', [GATE_REASON_ANNOTATION]: why },
        // A Job that needs no role from this stack has nothing for the access check to prove.
        ...(verdict.kind === 'not-needed'
          ? { templateAnnotations: { [ACCESS_CHECK_ANNOTATION]: ACCESS_CHECK_SKIP } }
          : {}),
        preconditions: { uid: job.uid },
      });
      result.released++;
      const event =
        verdict.kind === 'release'
          ? jobEvent(job, 'Normal', 'Released', why)
          : jobEvent(job, 'Normal', verdict.reason, why);
      if ((await k8s.createEvent(event)) === 'created') result.events++;
      return result;
    }
    result.held++;
    if (
      (await k8s.createEvent(jobEvent(job, 'Warning', verdict.reason, verdict.message))) ===
      'created'
    ) {
      result.events++;
    }
    const age = ageSeconds(job, deps.now());
    if (
      age !== undefined &&
      age >= options.stuckAfterSeconds &&
      job.annotations[GATE_ANNOTATION] !== 'stuck'
    ) {
      await k8s.setJobSuspended(job.namespace, job.name, true, {
        annotations: {
          [GATE_ANNOTATION]: 'stuck',
          [GATE_REASON_ANNOTATION]: `held for over ${Math.round(options.stuckAfterSeconds / 60)} min: ${verdict.reason}: ${verdict.message}`,
        },
        preconditions: { uid: job.uid },
      });
      result.stuck++;
    }
  } catch (error) {
    // Deleted, or re-created under the same name, since it was listed: the next pass sees the truth.
    if (!(error instanceof KubernetesNotFoundError || error instanceof KubernetesConflictError))
      throw error;
    return undefined;
  }
  return result;
}

/** Refusals that say the ServiceAccount is not this stack's to grant: its Job must not wait on us. */
const NOT_OURS: ReadonlySet<string> = new Set(['SeedRoleNotAllowed']);

async function judge(
  k8s: KubernetesPort,
  cluster: string,
  job: JobRecord,
  input: ReleaseInput,
): Promise<Verdict> {
  const sa = job.serviceAccountName;
  const key = keyOf({ cluster, namespace: job.namespace, name: sa });
  const roleArn = input.granted.get(key);
  if (roleArn !== undefined) return { kind: 'release', roleArn };
  if (input.deferred.has(key)) return { kind: 'deferred' };
  const unproven = input.unproven.get(key);
  if (unproven !== undefined) return { kind: 'hold', ...unproven };
  const refusal = input.refused.get(key);
  if (refusal !== undefined && NOT_OURS.has(refusal.reason)) {
    return {
      kind: 'not-needed',
      reason: 'NoRoleNeeded',
      message: `ServiceAccount ${sa} names a seed this stack does not serve (${refusal.reason}), so no role will come from kubestash-irsa`,
    };
  }
  if (refusal !== undefined) {
    return {
      kind: 'hold',
      reason: refusal.reason,
      message: `ServiceAccount ${sa} was refused a role: ${refusal.message}`,
    };
  }
  if (!input.reportOrphans) return { kind: 'not-mine' };
  const account = await k8s.getServiceAccount(job.namespace, sa);
  if (account === undefined) {
    return {
      kind: 'hold',
      reason: 'ServiceAccountNotFound',
      message: `the Job runs as ServiceAccount ${sa}, which does not exist; KubeStash creates it with the Job, so check the BackupSession, or delete this Job`,
    };
  }
  const seedRole = account.annotations[SEED_ROLE_ANNOTATION];
  if (seedRole !== undefined && input.otherSeeds.includes(seedNameOf(seedRole)))
    return { kind: 'not-mine' };
  if (seedRole === undefined && (input.podIdentityClusters ?? []).includes(cluster)) {
    return { kind: 'not-mine' };
  }
  if (seedRole === undefined) {
    const own = account.annotations[ROLE_ARN_ANNOTATION];
    return {
      kind: 'not-needed',
      reason: 'NoRoleNeeded',
      message:
        own === undefined
          ? `ServiceAccount ${sa} carries no ${SEED_ROLE_ANNOTATION} annotation, so the Job needs no role from kubestash-irsa (a KubeStash trigger Job, or a Job that does not use the backup bucket)`
          : `ServiceAccount ${sa} carries no ${SEED_ROLE_ANNOTATION} annotation and has a role of its own (${own})`,
    };
  }
  // Its seed is ours and it is in an allowed namespace, yet the plan has no word on it: it was
  // created after this pass listed ServiceAccounts. The next pass (its audit event, or the resync) grants it.
  return {
    kind: 'hold',
    reason: 'WaitingForRole',
    message: `ServiceAccount ${sa} is waiting for its role; the next reconcile grants it`,
  };
}

function releaseReason(job: JobRecord, roleArn: string, proven: boolean): string {
  return `released: ServiceAccount ${job.serviceAccountName} has role ${roleArn}${
    proven ? ', proven with a token before it was annotated' : ''
  }`;
}

function jobEvent(
  job: JobRecord,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
): KubernetesEventSpec {
  return {
    involvedObject: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      namespace: job.namespace,
      name: job.name,
      uid: job.uid,
    },
    reason,
    message,
    type,
  };
}

function ageSeconds(job: JobRecord, now: Date): number | undefined {
  if (job.creationTimestamp === undefined) return undefined;
  const created = Date.parse(job.creationTimestamp);
  return Number.isNaN(created) ? undefined : (now.getTime() - created) / 1000;
}
