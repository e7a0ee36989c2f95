import { parseSubject } from './subject';
import { issuerOfProviderArn } from './trust-policy';

/**
 * What `npm run migrate` finds and may do about aws-credential-manager's
 * derived roles of one seed. Pure: the command reads IAM and the clusters,
 * this decides, the command writes.
 *
 * The rule (docs/migration.md): a manager's role is deleted only when none of
 * its subjects is live (a ServiceAccount that exists in its cluster) and no
 * existing ServiceAccount is annotated with it. Anything that cannot be
 * checked (a provider of no configured cluster, a wildcard subject, a subject
 * that is not a ServiceAccount) counts as live: an unknown is never deleted.
 */

/** A role {@link recogniseManagerRole} accepted, with where it lives. */
export interface ManagerRoleFound {
  readonly name: string;
  /** The `<i>` of `<seed>-<i>`. */
  readonly index: number;
  readonly path: string;
  readonly arn: string;
  readonly providerArn: string;
  readonly subjects: readonly string[];
}

/** A configured cluster and the issuer of its OIDC provider (no `https://`). */
export interface MigrationCluster {
  readonly name: string;
  readonly issuer: string;
}

/** A ServiceAccount that exists, in a namespace the command listed. */
export interface ExistingServiceAccount {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  /** `eks.amazonaws.com/role-arn`, if set. */
  readonly roleArn?: string;
}

/** One webhook of a MutatingWebhookConfiguration, as far as the report needs it. */
export interface WebhookView {
  readonly name: string;
  /** `Fail` or `Ignore`; the API server defaults it to `Fail` in admissionregistration/v1. */
  readonly failurePolicy: string;
  readonly serviceNamespace?: string;
  readonly serviceName?: string;
}

/** A MutatingWebhookConfiguration (cluster-scoped), as far as the report needs it. */
export interface WebhookConfigurationView {
  readonly cluster: string;
  readonly name: string;
  readonly webhooks: readonly WebhookView[];
}

export interface MigrationInput {
  readonly seed: string;
  readonly roles: readonly ManagerRoleFound[];
  readonly clusters: readonly MigrationCluster[];
  /** Every ServiceAccount of every namespace a subject names (and of the allowed namespaces). */
  readonly serviceAccounts: readonly ExistingServiceAccount[];
  readonly webhookConfigurations: readonly WebhookConfigurationView[];
  /** A configuration is the manager's when its name or a webhook's Service name contains this. */
  readonly managerWebhookMatch: string;
}

export interface RoleMigration {
  readonly name: string;
  readonly arn: string;
  readonly path: string;
  /** Subjects whose ServiceAccount exists. */
  readonly live: readonly string[];
  /** Subjects whose ServiceAccount is gone. */
  readonly stale: readonly string[];
  /** Subjects that cannot be checked; they keep the role like live ones. */
  readonly unverifiable: readonly string[];
  /** `cluster/namespace/name` of existing ServiceAccounts annotated with this role. */
  readonly annotatedBy: readonly string[];
  readonly action: 'keep' | 'delete';
}

export interface ManagerWebhook {
  readonly cluster: string;
  readonly name: string;
  /** The webhooks of the configuration whose failurePolicy is `Fail`. */
  readonly failing: readonly string[];
}

export interface MigrationReport {
  readonly seed: string;
  readonly roles: readonly RoleMigration[];
  /** Names of the roles `--apply` deletes, in index order. */
  readonly deletable: readonly string[];
  /** The manager's webhook configurations still registered, per cluster. */
  readonly managerWebhooks: readonly ManagerWebhook[];
}

type Liveness = 'live' | 'stale' | 'unverifiable';

/** Decides what becomes of each of the manager's roles. */
export function migrationReport(input: MigrationInput): MigrationReport {
  const clusterOfIssuer = new Map(input.clusters.map((c) => [c.issuer, c.name]));
  const existing = new Set(
    input.serviceAccounts.map((sa) => saKey(sa.cluster, sa.namespace, sa.name)),
  );
  const roles = [...input.roles]
    .sort((a, b) => a.index - b.index)
    .map((role): RoleMigration => {
      const issuer = issuerOfProviderArn(role.providerArn);
      const cluster = issuer === undefined ? undefined : clusterOfIssuer.get(issuer);
      const by: Record<Liveness, string[]> = { live: [], stale: [], unverifiable: [] };
      for (const subject of role.subjects) {
        by[liveness(subject, cluster, existing)].push(subject);
      }
      const annotatedBy = input.serviceAccounts
        .filter((sa) => sa.roleArn === role.arn)
        .map((sa) => saKey(sa.cluster, sa.namespace, sa.name))
        .sort(compare);
      const keep = by.live.length + by.unverifiable.length + annotatedBy.length > 0;
      return {
        name: role.name,
        arn: role.arn,
        path: role.path,
        live: by.live,
        stale: by.stale,
        unverifiable: by.unverifiable,
        annotatedBy,
        action: keep ? 'keep' : 'delete',
      };
    });
  const needle = input.managerWebhookMatch.toLowerCase();
  const managerWebhooks = input.webhookConfigurations
    .filter(
      (c) =>
        c.name.toLowerCase().includes(needle) ||
        c.webhooks.some((w) => (w.serviceName ?? '').toLowerCase().includes(needle)),
    )
    .map((c) => ({
      cluster: c.cluster,
      name: c.name,
      failing: c.webhooks.filter((w) => w.failurePolicy === 'Fail').map((w) => w.name),
    }));
  return {
    seed: input.seed,
    roles,
    deletable: roles.filter((r) => r.action === 'delete').map((r) => r.name),
    managerWebhooks,
  };
}

function liveness(
  subject: string,
  cluster: string | undefined,
  existing: ReadonlySet<string>,
): Liveness {
  const parsed = parseSubject(subject);
  if (cluster === undefined || parsed === undefined || parsed.name.includes('*')) {
    return 'unverifiable';
  }
  return existing.has(saKey(cluster, parsed.namespace, parsed.name)) ? 'live' : 'stale';
}

/** The namespaces a role's subjects name: the command lists ServiceAccounts there. */
export function subjectNamespaces(roles: readonly ManagerRoleFound[]): string[] {
  const out = new Set<string>();
  for (const role of roles) {
    for (const subject of role.subjects) {
      const parsed = parseSubject(subject);
      if (parsed !== undefined) out.add(parsed.namespace);
    }
  }
  return [...out].sort(compare);
}

function saKey(cluster: string, namespace: string, name: string): string {
  return `${cluster}/${namespace}/${name}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
