import { issuerOfProviderArn } from '../lambda/domain/trust-policy';
import type { SeedCluster, SeedSpec } from '../lambda/domain/plan-types';
import { plan } from '../lambda/domain/planner';
import { DEFAULT_TRUST_POLICY_QUOTA } from '../lambda/domain/policy-size';
import { KUBESTASH_MANAGED_BY, MANAGED_BY_LABEL } from '../lambda/ports/annotations';
import type { IamPort } from '../lambda/ports/iam-port';
import type { KubernetesPort, WebhookRegistrationsPort } from '../lambda/ports/kubernetes-port';
import { readDerivedRoles, readServiceAccounts } from '../lambda/reconciler/reconcile-seed';
import { seedTagSettings } from '../lambda/reconciler/reconciler-settings';
import { keyOf } from '../lambda/reconciler/release-gated-jobs';
import { clustersOfSeed } from '../lib/config/project-config';
import type { ProjectConfig, SeedConfig } from '../lib/config/project-config';
import { gateRegistrationStatus, heldJobStatus, isHeld, seedStatus } from './status-model';
import type { GateRegistrationStatus, ListedJob, SeedStatus, StatusReport } from './status-model';

/** The IAM reads status makes; it writes nothing. */
export type StatusIam = Pick<
  IamPort,
  'getTrustPolicySizeQuota' | 'getSeedRole' | 'listRolesUnderPath' | 'getRoleTags'
>;
/** The Kubernetes reads status makes; it writes nothing. */
export type StatusKubernetes = Pick<KubernetesPort, 'listServiceAccounts' | 'listJobs'> &
  WebhookRegistrationsPort;
/** The reads whose failure ends the command (the gate's registration only makes its row `unread`). */
type SeedReads = Pick<StatusKubernetes, 'listServiceAccounts' | 'listJobs'>;

export interface StatusDeps {
  readonly iam: StatusIam;
  readonly kubernetes: (cluster: string) => StatusKubernetes;
  readonly now: () => Date;
  /** One line per slow step, for a person watching (stderr). */
  readonly progress: (line: string) => void;
}

/** A failure while reading one cluster, so the message can name it. */
export class ClusterReadError extends Error {
  constructor(
    readonly cluster: string,
    cause: unknown,
  ) {
    super(`cluster ${cluster}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'ClusterReadError';
  }
}

/** The seed role the configuration names does not exist in the account the credentials reach. */
export class SeedRoleMissingError extends Error {
  constructor(
    readonly seed: string,
    cause: unknown,
  ) {
    super(`seed role ${seed} does not exist in this account`, { cause });
    this.name = 'SeedRoleMissingError';
  }
}

/**
 * Reads the live state of every configured seed, read-only: the seed role and
 * its tags (path, limit, namespaces), its derived roles, the ServiceAccounts
 * that name it and the Jobs the gate holds in its namespaces, in each of its
 * clusters. The planner, given what was read, tells which ServiceAccounts are
 * waiting and why others are refused, exactly as the reconciler's next pass
 * would; nothing is written.
 *
 * @throws SeedRoleMissingError, ClusterReadError, or the IAM client's error
 */
export async function readStatus(deps: StatusDeps, config: ProjectConfig): Promise<StatusReport> {
  const readAt = deps.now();
  deps.progress('IAM: account trust-policy quota');
  const quota = (await deps.iam.getTrustPolicySizeQuota()) ?? DEFAULT_TRUST_POLICY_QUOTA;
  const kubernetes = clusterNaming(deps.kubernetes);
  const jobsRead = new Map<string, Promise<ListedJob[]>>();
  const heldJobs = (cluster: string, namespace: string): Promise<ListedJob[]> => {
    const key = `${cluster}/${namespace}`;
    let read = jobsRead.get(key);
    if (read === undefined) {
      read = kubernetes(cluster)
        .listJobs(namespace, `${MANAGED_BY_LABEL}=${KUBESTASH_MANAGED_BY}`)
        .then((jobs) => jobs.filter(isHeld).map((job) => ({ cluster, job })));
      jobsRead.set(key, read);
    }
    return read;
  };

  let account = '';
  const seeds: SeedStatus[] = [];
  const claimed = new Set<string>();
  for (const seedConfig of config.seeds) {
    deps.progress(`IAM: seed ${seedConfig.name} and its derived roles`);
    const seedRole = await deps.iam.getSeedRole(seedConfig.name).catch((error: unknown) => {
      throw isNoSuchEntity(error) ? new SeedRoleMissingError(seedConfig.name, error) : error;
    });
    account = accountOf(seedRole.arn);
    const settings = seedTagSettings(seedRole);
    const seed: SeedSpec = {
      name: seedConfig.name,
      arn: seedRole.arn,
      path: settings.derivedRolePath,
      clusters: seedClusters(config, seedConfig, seedRole.arn),
      conditionOperator: seedConfig.subjectMatch,
      roleCreationLimit: settings.roleCreationLimit,
    };
    const roles = await readDerivedRoles(deps.iam, seed);
    for (const cluster of seed.clusters) {
      deps.progress(
        `cluster ${cluster.name}: ServiceAccounts and held Jobs in ${settings.allowedNamespaces.length} namespace(s)`,
      );
    }
    // status wraps every cluster read in ClusterReadError, so an unreachable
    // cluster ends the command with a line naming it rather than being skipped.
    const { serviceAccounts } = await readServiceAccounts(
      { kubernetes },
      seed,
      settings.allowedNamespaces,
      {
        otherSeeds: config.seeds.filter((s) => s.name !== seed.name).map((s) => s.name),
        reportUnknownSeeds: false,
      },
    );
    const planned = plan({
      seeds: [seed],
      allowedNamespaces: settings.allowedNamespaces,
      quota,
      // Deletions are not reported; the grace period only decides those.
      emptyRoleGracePeriodSeconds: Number.MAX_SAFE_INTEGER,
      now: readAt.toISOString(),
      roles,
      serviceAccounts,
    });
    const mine = new Set(serviceAccounts.map(keyOf));
    const jobs: ListedJob[] = [];
    for (const cluster of seed.clusters) {
      for (const namespace of settings.allowedNamespaces) {
        for (const listed of await heldJobs(cluster.name, namespace)) {
          const key = keyOf({
            cluster: cluster.name,
            namespace,
            name: listed.job.serviceAccountName,
          });
          if (!mine.has(key)) continue;
          jobs.push(listed);
          claimed.add(`${cluster.name}/${namespace}/${listed.job.name}`);
        }
      }
    }
    seeds.push(
      seedStatus({
        seed,
        allowedNamespaces: settings.allowedNamespaces,
        quota,
        roles,
        plan: planned,
        jobs,
        warnings: settings.warnings,
        now: readAt,
      }),
    );
  }

  const unclaimed = (await Promise.all(jobsRead.values()))
    .flat()
    .filter((j) => !claimed.has(`${j.cluster}/${j.job.namespace}/${j.job.name}`));
  const otherHeldJobs = unclaimed.map((j) => heldJobStatus(j, undefined, readAt));
  const jobGate = config.jobGate.enabled ? await readGateRegistrations(deps, config) : undefined;

  return {
    account,
    quota,
    readAt: readAt.toISOString(),
    seeds,
    otherHeldJobs,
    ...(jobGate === undefined ? {} : { jobGate }),
  };
}

/**
 * The gate's registration in each configured cluster. A failed list is
 * reported in the row (usually RBAC: the list is cluster-scoped), not fatal:
 * the rest of the status stands without it.
 */
async function readGateRegistrations(
  deps: StatusDeps,
  config: ProjectConfig,
): Promise<GateRegistrationStatus[]> {
  const clusters = [
    ...new Set(config.seeds.flatMap((s) => clustersOfSeed(config, s)).map((c) => c.name)),
  ];
  const rows: GateRegistrationStatus[] = [];
  for (const cluster of clusters) {
    deps.progress(`cluster ${cluster}: the job gate's webhook registration`);
    try {
      const configurations = await deps.kubernetes(cluster).listMutatingWebhookConfigurations();
      rows.push(gateRegistrationStatus(cluster, configurations));
    } catch (error) {
      rows.push(
        gateRegistrationStatus(
          cluster,
          undefined,
          error instanceof Error ? error.message : String(error),
        ),
      );
    }
  }
  return rows;
}

/**
 * The seed's clusters with their OIDC provider ARN and issuer, as the stack
 * gives them to the reconciler: an imported provider's ARN names its issuer;
 * a provider the stack creates is named after the issuer URL without https://
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html).
 */
export function seedClusters(
  config: ProjectConfig,
  seed: SeedConfig,
  seedRoleArn: string,
): SeedCluster[] {
  const [, partition = 'aws', , , account = config.account] = seedRoleArn.split(':');
  return clustersOfSeed(config, seed).map((c) => {
    if (c.oidcProviderArn !== undefined) {
      return {
        name: c.name,
        providerArn: c.oidcProviderArn,
        issuer: issuerOfProviderArn(c.oidcProviderArn) ?? '',
      };
    }
    const issuer = (c.oidcIssuerUrl ?? '').replace(/^https:\/\//, '');
    return {
      name: c.name,
      providerArn: `arn:${partition}:iam::${account}:oidc-provider/${issuer}`,
      issuer,
    };
  });
}

function accountOf(arn: string): string {
  return arn.split(':')[4] ?? '';
}

function isNoSuchEntity(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'NoSuchEntity' || error.name === 'NoSuchEntityException')
  );
}

/** Each cluster's reads, their failures wrapped so the message names the cluster. */
function clusterNaming(
  factory: (cluster: string) => StatusKubernetes,
): (cluster: string) => SeedReads {
  const ports = new Map<string, SeedReads>();
  return (cluster) => {
    let port: SeedReads | undefined = ports.get(cluster);
    if (port === undefined) {
      const inner = factory(cluster);
      const named = async <R>(call: () => Promise<R>): Promise<R> => {
        try {
          return await call();
        } catch (error) {
          throw new ClusterReadError(cluster, error);
        }
      };
      port = {
        listServiceAccounts: (ns) => named(() => inner.listServiceAccounts(ns)),
        listJobs: (ns, selector) => named(() => inner.listJobs(ns, selector)),
      };
      ports.set(cluster, port);
    }
    return port;
  };
}
