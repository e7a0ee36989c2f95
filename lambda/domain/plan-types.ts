import type { ConditionOperator, OidcProvider } from './trust-policy';

/** A cluster a seed serves: its name and IAM OIDC provider. */
export interface SeedCluster extends OidcProvider {
  readonly name: string;
}

export interface SeedSpec {
  readonly name: string;
  /** The seed role's ARN; gives the partition and account of its derived roles. */
  readonly arn: string;
  /** IAM path of the derived roles, e.g. `/kubestash-irsa/`. */
  readonly path: string;
  readonly clusters: readonly SeedCluster[];
  readonly conditionOperator: ConditionOperator;
  /** At most this many derived roles. */
  readonly roleCreationLimit: number;
  /**
   * Namespaces granted as a whole with `system:serviceaccount:NS:*` (needs
   * StringLike). Any ServiceAccount in them, including ones people create,
   * can then assume the role: use only for namespaces that hold nothing else.
   */
  readonly compactNamespaces?: readonly string[];
}

export interface ExistingRole {
  readonly name: string;
  readonly path: string;
  /** As IAM returns it: URL-encoded JSON (plain JSON accepted). */
  readonly trustPolicy: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly createDate: string;
}

export interface ServiceAccountState {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  /** `go.klusters.dev/seed-role-name`: the seed role's ARN (or bare name). */
  readonly seedRole: string;
  /** `eks.amazonaws.com/role-arn`, if set. */
  readonly roleArn?: string;
}

export interface PlanInput {
  readonly seeds: readonly SeedSpec[];
  readonly allowedNamespaces: readonly string[];
  /** `AssumeRolePolicySizeQuota`; 2048 when unknown. */
  readonly quota?: number;
  /** How long a derived role may stay empty before it is deleted. */
  readonly emptyRoleGracePeriodSeconds: number;
  /** ISO 8601. */
  readonly now: string;
  readonly roles: readonly ExistingRole[];
  readonly serviceAccounts: readonly ServiceAccountState[];
  /**
   * Names of roles in the account that no seed owns as a derived role (other
   * paths, other case): a derived name equal to one, ignoring case, is taken,
   * because IAM role names are unique in the account whatever the path.
   */
  readonly foreignRoleNames?: readonly string[];
  /**
   * Those of `foreignRoleNames` that are aws-credential-manager's roles of
   * this seed (docs/migration.md): a refusal tells to free them with
   * `npm run migrate -- --seed <seed> --apply` rather than to rename them.
   * @default none
   */
  readonly managerRoleNames?: readonly string[];
}

export interface RoleCreate {
  readonly seed: string;
  readonly roleName: string;
  readonly path: string;
  readonly trustPolicy: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface RoleUpdate {
  readonly seed: string;
  readonly roleName: string;
  /** The new trust policy, or undefined when only tags change. */
  readonly trustPolicy?: string;
  /** Tags to set (e.g. the empty-since marker). */
  readonly setTags: Readonly<Record<string, string>>;
  /** Tag keys to remove. */
  readonly removeTags: readonly string[];
}

export interface RoleDelete {
  readonly seed: string;
  readonly roleName: string;
}

export interface Assignment {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly seed: string;
  readonly roleName: string;
  readonly roleArn: string;
  /** The ServiceAccount's role-arn annotation must be (re)written. */
  readonly annotate: boolean;
}

/** Why the planner refuses a ServiceAccount a role; listed so metrics can report each, even at 0. */
export const REFUSAL_REASONS = [
  'NamespaceNotAllowed',
  'SeedRoleNotAllowed',
  'ClusterNotAllowed',
  'DerivedRoleLimitReached',
  'SubjectTooLarge',
] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface Refusal {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly reason: RefusalReason;
  /** What happened and what to do, for a Kubernetes Event. */
  readonly message: string;
}

export type RoleState = 'create' | 'update' | 'delete' | 'unchanged';

export interface RoleSummary {
  readonly seed: string;
  readonly roleName: string;
  readonly state: RoleState;
  readonly subjects: number;
  readonly size: number;
  readonly quota: number;
}

export interface Plan {
  readonly quota: number;
  readonly creates: readonly RoleCreate[];
  readonly updates: readonly RoleUpdate[];
  readonly deletes: readonly RoleDelete[];
  readonly assignments: readonly Assignment[];
  readonly refusals: readonly Refusal[];
  readonly roles: readonly RoleSummary[];
  /** Repairs, evictions and other things an operator should know. */
  readonly notes: readonly string[];
}
