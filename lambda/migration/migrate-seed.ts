import { recogniseManagerRole } from '../domain/manager-roles';
import { findManagerRoles } from './find-manager-roles';
import { migrationReport, subjectNamespaces } from '../domain/migration-report';
import type {
  ExistingServiceAccount,
  ManagerRoleFound,
  MigrationCluster,
  MigrationReport,
  WebhookConfigurationView,
} from '../domain/migration-report';
import { ROLE_ARN_ANNOTATION } from '../ports/annotations';
import type { IamPort } from '../ports/iam-port';
import type { KubernetesPort, WebhookRegistrationsPort } from '../ports/kubernetes-port';

/** What `migrate` talks to, all with the caller's credentials. */
export interface MigrateDeps {
  readonly iam: IamPort;
  readonly kubernetes: (cluster: string) => KubernetesPort & WebhookRegistrationsPort;
  /** One line of progress (the command writes it to stderr). */
  readonly progress: (line: string) => void;
}

export interface MigrateOptions {
  /** The seed role's name: the manager's roles are `<seed>-<i>`. */
  readonly seed: string;
  /** Where the manager creates its roles; `/` (it calls CreateRole without a Path). */
  readonly managerPath: string;
  /** The clusters the seed serves, with their issuers, to tell which cluster a subject belongs to. */
  readonly clusters: readonly MigrationCluster[];
  /** Listed besides the namespaces the subjects name, to find ServiceAccounts annotated with a role. */
  readonly namespaces: readonly string[];
  /** A MutatingWebhookConfiguration is the manager's when its (or its Service's) name contains this. */
  readonly managerWebhookMatch: string;
  /** Delete the roles the report marks `delete`; otherwise only report. */
  readonly apply: boolean;
}

export interface MigrateOutcome {
  readonly report: MigrationReport;
  /** Roles deleted by this run (empty without `apply`). */
  readonly deleted: readonly string[];
  /** Roles marked for deletion that changed since they were read, left for the next run. */
  readonly skipped: readonly { readonly role: string; readonly why: string }[];
  readonly failed: readonly { readonly role: string; readonly error: string }[];
}

/**
 * One pass of the move away from aws-credential-manager for one seed: find the
 * manager's roles (lambda/domain/manager-roles.ts), which subjects are still
 * live, which ServiceAccounts still name them and whether its webhook is still
 * registered, then, with `apply`, delete the roles with nothing live
 * (lambda/domain/migration-report.ts), policies detached first.
 *
 * Idempotent and crash-safe: a role is re-read and re-judged right before it
 * is deleted (the manager may have trusted a new ServiceAccount meanwhile),
 * and a run stopped between DetachRolePolicy and DeleteRole leaves an
 * untagged, manager-shaped role with nothing live, which the next run deletes.
 */
export async function migrateSeed(
  deps: MigrateDeps,
  options: MigrateOptions,
): Promise<MigrateOutcome> {
  const atPath = await findManagerRoles(deps.iam, options.seed, options.managerPath);
  for (const { name, reason } of atPath.passedOver)
    deps.progress(`leaving ${name} alone: ${reason}`);
  const roles = [...atPath.found];
  deps.progress(
    `found ${roles.length} role(s) of aws-credential-manager for seed ${options.seed} at path ${options.managerPath}`,
  );
  const namespaces = [...new Set([...options.namespaces, ...subjectNamespaces(roles)])].sort();
  const serviceAccounts: ExistingServiceAccount[] = [];
  const webhookConfigurations: WebhookConfigurationView[] = [];
  for (const cluster of options.clusters) {
    const kubernetes = deps.kubernetes(cluster.name);
    for (const namespace of namespaces) {
      deps.progress(`listing ServiceAccounts in ${cluster.name}/${namespace}`);
      for (const sa of await kubernetes.listServiceAccounts(namespace)) {
        const roleArn = sa.annotations[ROLE_ARN_ANNOTATION];
        serviceAccounts.push({
          cluster: cluster.name,
          namespace: sa.namespace,
          name: sa.name,
          ...(roleArn === undefined ? {} : { roleArn }),
        });
      }
    }
    deps.progress(`listing MutatingWebhookConfigurations in ${cluster.name}`);
    for (const c of await kubernetes.listMutatingWebhookConfigurations()) {
      webhookConfigurations.push({ cluster: cluster.name, ...c });
    }
  }
  const report = migrationReport({
    seed: options.seed,
    roles,
    clusters: options.clusters,
    serviceAccounts,
    webhookConfigurations,
    managerWebhookMatch: options.managerWebhookMatch,
  });
  if (!options.apply) return { report, deleted: [], skipped: [], failed: [] };

  const deleted: string[] = [];
  const skipped: { role: string; why: string }[] = [];
  const failed: { role: string; error: string }[] = [];
  const read = new Map(roles.map((r) => [r.name, r]));
  for (const name of report.deletable) {
    try {
      const why = await changedSinceRead(deps.iam, options.seed, read.get(name));
      if (why !== undefined) {
        deps.progress(`skipping ${name}: ${why}`);
        skipped.push({ role: name, why });
        continue;
      }
      deps.progress(`deleting ${name} (policies detached first)`);
      await deps.iam.deleteRole(name);
      deleted.push(name);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      deps.progress(`failed to delete ${name}: ${message}`);
      failed.push({ role: name, error: message });
    }
  }
  return { report, deleted, skipped, failed };
}

/**
 * Why a role marked for deletion must wait for the next run, or undefined:
 * it is gone, it is no longer the manager's, or it trusts a subject it did not
 * trust when the report was made (whose ServiceAccount this run never checked).
 */
async function changedSinceRead(
  iam: IamPort,
  seed: string,
  before: ManagerRoleFound | undefined,
): Promise<string | undefined> {
  if (before === undefined) return 'not read by this run';
  const now = await iam.findRole(before.name);
  if (now === undefined) return 'already gone';
  const verdict = recogniseManagerRole(seed, now);
  if (!verdict.manager) return `no longer the manager's (${verdict.reason})`;
  const known = new Set(before.subjects);
  const added = verdict.subjects.filter((s) => !known.has(s));
  return added.length === 0
    ? undefined
    : `it now also trusts ${added.join(', ')}; run migrate again to check them`;
}
