import { seedNameOf } from '../domain/iam-names';
import {
  GATE_ANNOTATION,
  GATE_REASON_ANNOTATION,
  KUBESTASH_MANAGED_BY,
  MANAGED_BY_LABEL,
  SEED_ROLE_ANNOTATION,
} from '../ports/annotations';
import type { JobRecord, KubernetesEventSpec, KubernetesPort } from '../ports/kubernetes-port';
import { KubernetesConflictError, KubernetesNotFoundError } from '../ports/kubernetes-port';
import type { WebIdentityPort } from '../ports/web-identity-port';

/** The audience IRSA tokens carry; the proof asks for the same. */
const STS_AUDIENCE = 'sts.amazonaws.com';
/** The shortest TokenRequest the API server grants. */
const PROOF_TOKEN_SECONDS = 600;
/** Proofs wait on IAM, not on CPU: a few at once keep a pass short without hammering STS. */
const PROOF_CONCURRENCY = 4;

export interface ReleaseOptions {
  /** A Job still held this long after its creation is marked `stuck`. */
  readonly stuckAfterSeconds: number;
  /** Prove access with the ServiceAccount's own token before releasing; off when undefined. */
  readonly proof?: ProofOptions;
}

export interface ProofOptions {
  /** AssumeRoleWithWebIdentity calls per Job and pass. */
  readonly attempts: number;
  readonly delayMs: number;
  /**
   * Time all proofs of one pass may take together, so a pass with many Jobs
   * waiting on IAM still ends well inside the Lambda timeout; Jobs not tried
   * stay held for the next pass.
   * @default 45_000
   */
  readonly budgetMs?: number;
}

export interface ReleaseDeps {
  readonly kubernetes: (cluster: string) => KubernetesPort;
  readonly webIdentity?: WebIdentityPort;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
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
  /** `cluster/namespace/name` of each ServiceAccount that carries its role ARN now, and that ARN. */
  readonly granted: ReadonlyMap<string, string>;
  /** `cluster/namespace/name` of each refused ServiceAccount, and why. */
  readonly refused: ReadonlyMap<string, { readonly reason: string; readonly message: string }>;
  /** Other configured seeds: a Job whose ServiceAccount names one is that seed's to release. */
  readonly otherSeeds: readonly string[];
  /** Tell about Jobs whose ServiceAccount no seed serves (one seed's pass does, so once). */
  readonly reportOrphans: boolean;
}

export interface ReleaseResult {
  readonly released: number;
  readonly held: number;
  readonly stuck: number;
  readonly events: number;
}

type Verdict =
  | { readonly kind: 'release'; readonly roleArn: string; readonly proven: boolean }
  | { readonly kind: 'hold'; readonly reason: string; readonly message: string }
  | { readonly kind: 'not-mine' }
  /** Out of proof time this pass: left as it is for the next. */
  | { readonly kind: 'deferred' };

/**
 * Releases the Jobs the gate holds once their ServiceAccount carries its role
 * ARN and IAM trusts it (proven with the ServiceAccount's own token when
 * asked), and tells the story of the others on the Job itself: an Event with
 * the reason and the fix, and past `stuckAfterSeconds` a `stuck` mark, so
 * `kubectl describe job` says why it waits. Only Jobs the gate marked are
 * touched; a Job released or deleted meanwhile is left alone.
 */
export async function releaseGatedJobs(
  deps: ReleaseDeps,
  input: ReleaseInput,
  options: ReleaseOptions,
): Promise<ReleaseResult> {
  const held: { cluster: string; job: JobRecord }[] = [];
  for (const cluster of input.clusters) {
    for (const namespace of input.namespaces) {
      const jobs = await deps
        .kubernetes(cluster)
        .listSuspendedJobs(namespace, `${MANAGED_BY_LABEL}=${KUBESTASH_MANAGED_BY}`);
      for (const job of jobs) {
        const state = job.annotations[GATE_ANNOTATION];
        if (
          (state === 'held' || state === 'stuck') &&
          !job.finished &&
          job.deletionTimestamp === undefined
        ) {
          held.push({ cluster, job });
        }
      }
    }
  }

  const result = { released: 0, held: 0, stuck: 0, events: 0 };
  const proofDeadline = deps.now().getTime() + (options.proof?.budgetMs ?? 45_000);
  await inBatches(held, PROOF_CONCURRENCY, async ({ cluster, job }) => {
    const k8s = deps.kubernetes(cluster);
    const verdict = await judge(deps, k8s, cluster, job, input, options, proofDeadline);
    try {
      if (verdict.kind === 'not-mine') return;
      if (verdict.kind === 'deferred') {
        result.held++;
        return;
      }
      if (verdict.kind === 'release') {
        const why = releaseReason(job, verdict);
        await k8s.setJobSuspended(job.namespace, job.name, false, {
          annotations: { [GATE_ANNOTATION]: 'released', [GATE_REASON_ANNOTATION]: why },
          preconditions: { uid: job.uid },
        });
        result.released++;
        if ((await k8s.createEvent(jobEvent(job, 'Normal', 'Released', why))) === 'created') {
          result.events++;
        }
        return;
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
    }
  });
  return result;
}

async function judge(
  deps: ReleaseDeps,
  k8s: KubernetesPort,
  cluster: string,
  job: JobRecord,
  input: ReleaseInput,
  options: ReleaseOptions,
  proofDeadline: number,
): Promise<Verdict> {
  const sa = job.serviceAccountName;
  const key = keyOf({ cluster, namespace: job.namespace, name: sa });
  const roleArn = input.granted.get(key);
  if (roleArn !== undefined) {
    if (options.proof === undefined || deps.webIdentity === undefined) {
      return { kind: 'release', roleArn, proven: false };
    }
    return prove(deps, deps.webIdentity, k8s, job, roleArn, options.proof, proofDeadline);
  }
  const refusal = input.refused.get(key);
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
  if (seedRole === undefined) {
    return {
      kind: 'hold',
      reason: 'NoSeedAnnotation',
      message: `ServiceAccount ${sa} carries no ${SEED_ROLE_ANNOTATION} annotation, so no role will be granted: annotate the KubeStash operator's ServiceAccount with the seed role (helm-values/kubestash-values.yaml from cdk8s synth), then re-run the session, or delete this Job`,
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

async function prove(
  deps: ReleaseDeps,
  webIdentity: WebIdentityPort,
  k8s: KubernetesPort,
  job: JobRecord,
  roleArn: string,
  proof: ProofOptions,
  deadline: number,
): Promise<Verdict> {
  if (deps.now().getTime() >= deadline) return { kind: 'deferred' };
  const token = await k8s.createServiceAccountToken(
    job.namespace,
    job.serviceAccountName,
    STS_AUDIENCE,
    PROOF_TOKEN_SECONDS,
  );
  let last = '';
  for (let attempt = 1; attempt <= proof.attempts; attempt++) {
    const outcome = await webIdentity.assumeRoleWithWebIdentity(roleArn, token);
    if (outcome.accepted) return { kind: 'release', roleArn, proven: true };
    last = outcome.reason;
    if (attempt === proof.attempts) break;
    if (deps.now().getTime() + proof.delayMs >= deadline) return { kind: 'deferred' };
    await deps.sleep(proof.delayMs);
  }
  return {
    kind: 'hold',
    reason: 'AccessNotYetProven',
    // Stable text (no counts that change): the Event is recorded once, not on every pass.
    message: `IAM does not yet let ServiceAccount ${job.serviceAccountName} assume ${roleArn} (${last.split(':')[0]}); trust policies can take a minute to propagate, so the Job stays suspended and the next reconcile tries again`,
  };
}

function releaseReason(job: JobRecord, verdict: { roleArn: string; proven: boolean }): string {
  return `released: ServiceAccount ${job.serviceAccountName} has role ${verdict.roleArn}${
    verdict.proven ? ' and IAM accepted its token for it' : ''
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

async function inBatches<T>(
  items: readonly T[],
  size: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await Promise.all(items.slice(i, i + size).map(run));
  }
}
