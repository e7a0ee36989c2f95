import { derivedRoleIndex } from '../lambda/domain/iam-names';
import type { ExistingRole, Plan, SeedSpec } from '../lambda/domain/plan-types';
import { policyFill, policySize } from '../lambda/domain/policy-size';
import { parseTrustPolicy, policyDocumentText } from '../lambda/domain/trust-policy';
import { GATE_ANNOTATION, GATE_REASON_ANNOTATION } from '../lambda/ports/annotations';
import {
  GATE_TOKEN_PLACEHOLDER,
  JOB_GATE_CONFIGURATION,
  JOB_GATE_WEBHOOK,
} from '../lambda/ports/gate-webhook';
import type {
  JobRecord,
  MutatingWebhookConfigurationRecord,
} from '../lambda/ports/kubernetes-port';
import { EMPTY_SINCE_TAG } from '../lambda/ports/tag-keys';
import { keyOf } from '../lambda/reconciler/release-gated-jobs';

/**
 * What `npm run status` reports, built from what it read (pure: no I/O, no
 * clock). Shapes are the `--json` output; docs/operations.md describes them.
 */

export interface RoleSubject {
  /** The cluster whose OIDC provider the statement names, or the provider ARN when no configured cluster has it. */
  readonly cluster: string;
  /** `system:serviceaccount:<namespace>:<name>` as the trust policy holds it. */
  readonly subject: string;
}

export interface RoleStatus {
  readonly name: string;
  readonly subjects: readonly RoleSubject[];
  /** Characters IAM counts against the quota (non-whitespace characters of the document). */
  readonly size: number;
  /** Percent of the quota, rounded down to one decimal. */
  readonly fill: number;
  /** Set when the role trusts nobody and waits for deletion (ISO 8601, from its tag). */
  readonly emptySince?: string;
  /** Set when the document is not one the reconciler writes; its next pass rewrites it. */
  readonly problem?: string;
}

export type ServiceAccountState = 'granted' | 'waiting' | 'refused';

export interface ServiceAccountStatus {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly state: ServiceAccountState;
  /** The derived role it holds (granted) or will get (waiting). */
  readonly role?: string;
  /** UpperCamelCase, as the reconciler's Event on the ServiceAccount says it. */
  readonly reason?: string;
  readonly message?: string;
}

export interface HeldJobStatus {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly serviceAccount: string;
  /** The gate's mark on the Job: `held`, or `stuck` once held past the configured time. */
  readonly state: string;
  readonly reason: string;
  readonly message: string;
  /** Seconds since the Job was created; undefined when the API server gave no creation time. */
  readonly ageSeconds?: number;
}

export interface SeedStatus {
  readonly seed: string;
  readonly path: string;
  readonly roleCreationLimit: number;
  readonly allowedNamespaces: readonly string[];
  readonly roles: readonly RoleStatus[];
  /** ServiceAccounts that hold their role; the ones waiting or refused are listed. */
  readonly granted: number;
  readonly serviceAccounts: readonly ServiceAccountStatus[];
  readonly heldJobs: readonly HeldJobStatus[];
  /** Settings problems found in the seed's tags. */
  readonly warnings: readonly string[];
}

export interface StatusReport {
  /** The AWS account the seed roles are in. */
  readonly account: string;
  /** `AssumeRolePolicySizeQuota` in characters. */
  readonly quota: number;
  /** ISO 8601: when the state was read. */
  readonly readAt: string;
  readonly seeds: readonly SeedStatus[];
  /** Held Jobs whose ServiceAccount no seed of this stack claims (gone, or naming another role). */
  readonly otherHeldJobs: readonly HeldJobStatus[];
  /** The job gate's webhook registration in each cluster; absent when the config turns the gate off. */
  readonly jobGate?: readonly GateRegistrationStatus[];
}

/**
 * How the job gate is registered in one cluster: `ready` (its webhook URL
 * carries a token), `placeholder` (applied from dist/ without README step 8:
 * the gate refuses every review), `misconfigured` (the URL names another
 * cluster or no token), `missing` (no registration), or `unread`
 * (the caller may not list MutatingWebhookConfigurations).
 */
export interface GateRegistrationStatus {
  readonly cluster: string;
  readonly state: 'ready' | 'placeholder' | 'misconfigured' | 'missing' | 'unread';
  /** What it means and the fix; empty when ready. */
  readonly message: string;
}

/**
 * The gate's registration in `cluster` from the MutatingWebhookConfigurations
 * read there, or `unread` with `readError` when they could not be read.
 */
export function gateRegistrationStatus(
  cluster: string,
  configurations: readonly MutatingWebhookConfigurationRecord[] | undefined,
  readError?: string,
): GateRegistrationStatus {
  if (configurations === undefined) {
    return {
      cluster,
      state: 'unread',
      message: `could not list MutatingWebhookConfigurations (${readError ?? 'unknown error'}); the gate's registration was not checked: it needs list on admissionregistration.k8s.io mutatingwebhookconfigurations (cluster-scoped; cluster-admin has it, view does not)`,
    };
  }
  const webhook = configurations
    .find((c) => c.name === JOB_GATE_CONFIGURATION)
    ?.webhooks.find((w) => w.name === JOB_GATE_WEBHOOK);
  if (webhook === undefined) {
    return {
      cluster,
      state: 'missing',
      message: `no MutatingWebhookConfiguration ${JOB_GATE_CONFIGURATION} with webhook ${JOB_GATE_WEBHOOK}: no Job is held until its role works; apply the job-gate manifest with its token (README, install step 8)`,
    };
  }
  const path = /\/clusters\/([^/]+)\/([^/]*)$/.exec(webhook.url ?? '');
  if (path === null || path[1] !== cluster || path[2] === '') {
    return {
      cluster,
      state: 'misconfigured',
      message: `the webhook URL ${webhook.url ?? '(none)'} does not end in /clusters/${cluster}/<token>: the gate refuses every review it cannot match to a cluster and a token (an empty token, say, when the secret could not be read in install step 8, or the file of another cluster); apply this cluster's job-gate manifest with its token (README, install step 8)`,
    };
  }
  if (path[2] === GATE_TOKEN_PLACEHOLDER) {
    return {
      cluster,
      state: 'placeholder',
      message: `the webhook URL still ends in ${GATE_TOKEN_PLACEHOLDER} (applied from dist/ without its token): the gate refuses every review, so with failurePolicy ${webhook.failurePolicy} ${webhook.failurePolicy === 'Ignore' ? 'every Job starts ungated' : 'every KubeStash Job is refused'}; give it its token (README, install step 8), again after every kubectl apply -f dist/`,
    };
  }
  return { cluster, state: 'ready', message: '' };
}

/** A held Job as read, with the cluster it is in. */
export interface ListedJob {
  readonly cluster: string;
  readonly job: JobRecord;
}

export interface SeedStatusInput {
  readonly seed: SeedSpec;
  readonly allowedNamespaces: readonly string[];
  readonly quota: number;
  readonly roles: readonly ExistingRole[];
  /** What the planner makes of the roles and ServiceAccounts read (nothing is written). */
  readonly plan: Plan;
  /** The held Jobs whose ServiceAccount is one of this seed's. */
  readonly jobs: readonly ListedJob[];
  readonly warnings: readonly string[];
  readonly now: Date;
}

/** The gate's marks for a Job it still holds. */
export function isHeld(job: JobRecord): boolean {
  const state = job.annotations[GATE_ANNOTATION];
  return (
    job.suspended &&
    (state === 'held' || state === 'stuck') &&
    !job.finished &&
    job.deletionTimestamp === undefined
  );
}

/**
 * One seed's status. Every ServiceAccount the planner saw is in exactly one of
 * granted (counted), waiting (the next pass writes its role) and refused (with
 * the planner's reason and message, which the reconciler's Event carries).
 */
export function seedStatus(input: SeedStatusInput): SeedStatus {
  const clusterOf = new Map(input.seed.clusters.map((c) => [c.providerArn, c.name]));
  const roles = [...input.roles]
    .sort(
      (a, b) =>
        (derivedRoleIndex(input.seed.name, a.name) ?? 0) -
        (derivedRoleIndex(input.seed.name, b.name) ?? 0),
    )
    .map((r) => roleStatus(r, input.quota, clusterOf));

  const byKey = new Map<string, ServiceAccountStatus>();
  for (const a of input.plan.assignments) {
    byKey.set(keyOf(a), {
      cluster: a.cluster,
      namespace: a.namespace,
      name: a.name,
      state: a.annotate ? 'waiting' : 'granted',
      role: a.roleName,
      ...(a.annotate
        ? {
            reason: 'WaitingForRole',
            message: input.roles.some((r) => r.name === a.roleName)
              ? `the next reconcile pass trusts it in ${a.roleName} and annotates it`
              : `the next reconcile pass creates ${a.roleName} for it`,
          }
        : {}),
    });
  }
  for (const r of input.plan.refusals) {
    byKey.set(keyOf(r), {
      cluster: r.cluster,
      namespace: r.namespace,
      name: r.name,
      state: 'refused',
      reason: r.reason,
      message: r.message,
    });
  }
  const all = [...byKey.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  const heldJobs = input.jobs
    .map((j) =>
      heldJobStatus(
        j,
        byKey.get(keyOf({ ...j.job, cluster: j.cluster, name: j.job.serviceAccountName })),
        input.now,
      ),
    )
    .sort((a, b) => (b.ageSeconds ?? 0) - (a.ageSeconds ?? 0));

  return {
    seed: input.seed.name,
    path: input.seed.path,
    roleCreationLimit: input.seed.roleCreationLimit,
    allowedNamespaces: input.allowedNamespaces,
    roles,
    granted: all.filter((s) => s.state === 'granted').length,
    serviceAccounts: all.filter((s) => s.state !== 'granted'),
    heldJobs,
    warnings: input.warnings,
  };
}

function roleStatus(
  role: ExistingRole,
  quota: number,
  clusterOf: ReadonlyMap<string, string>,
): RoleStatus {
  const emptySince = role.tags[EMPTY_SINCE_TAG];
  let size: number;
  let subjects: RoleSubject[] = [];
  let problem: string | undefined;
  try {
    size = policySize(policyDocumentText(role.trustPolicy));
    const parsed = parseTrustPolicy(role.trustPolicy);
    subjects = [...parsed.grants].flatMap(([provider, list]) =>
      list.map((subject) => ({ cluster: clusterOf.get(provider) ?? provider, subject })),
    );
    if (parsed.unrecognized.length > 0) problem = parsed.unrecognized.join('; ');
  } catch (error) {
    size = policySize(role.trustPolicy);
    problem = (error as Error).message;
  }
  return {
    name: role.name,
    subjects,
    size,
    fill: policyFill(size, quota),
    ...(emptySince === undefined ? {} : { emptySince }),
    ...(problem === undefined ? {} : { problem }),
  };
}

/**
 * Why a Job is held: the reason the reconciler wrote on it when it marked it
 * stuck, else what its ServiceAccount's state says (undefined: no seed claims it).
 */
export function heldJobStatus(
  { cluster, job }: ListedJob,
  account: ServiceAccountStatus | undefined,
  now: Date,
): HeldJobStatus {
  const created = job.creationTimestamp === undefined ? NaN : Date.parse(job.creationTimestamp);
  const written = job.annotations[GATE_REASON_ANNOTATION];
  const why = jobReason(account);
  return {
    cluster,
    namespace: job.namespace,
    name: job.name,
    serviceAccount: job.serviceAccountName,
    state: job.annotations[GATE_ANNOTATION] ?? 'held',
    reason: why.reason,
    message: written ?? why.message,
    ...(Number.isNaN(created)
      ? {}
      : { ageSeconds: Math.max(0, Math.round((now.getTime() - created) / 1000)) }),
  };
}

function jobReason(account: ServiceAccountStatus | undefined): {
  reason: string;
  message: string;
} {
  if (account === undefined) {
    return {
      reason: 'ServiceAccountNotServed',
      message:
        'its ServiceAccount is gone or names no seed this stack serves; the reconciler records why on the Job',
    };
  }
  if (account.state === 'granted') {
    return {
      reason: 'RoleGranted',
      message: `its ServiceAccount has ${account.role ?? 'its role'}; the next reconcile pass releases it once IAM accepts it`,
    };
  }
  return { reason: account.reason ?? 'WaitingForRole', message: account.message ?? '' };
}
