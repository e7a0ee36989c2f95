/**
 * The IAM decision tables of a synthesized stack: for each role the stack
 * creates, the requests it must be able to make (Allowed) and the nearest
 * escalations (Denied), each with the context keys IAM supplies for that
 * request spelled out. test/lib/kubestash-irsa-stack.iam.test.ts runs them
 * through an independent policy engine for every example config.
 *
 * Context keys IAM supplies (Service Authorization Reference,
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html):
 * `iam:ResourceTag/<k>` for every tag the target role carries, `iam:PermissionsBoundary`
 * for the role's boundary on the actions that list it, `aws:RequestTag/<k>` and
 * `aws:TagKeys` for the tags a request sets or removes, `iam:PolicyARN` for the
 * policy attached or detached. Keys a row leaves out are keys the request lacks.
 */
import { plan } from '../../lambda/domain/planner';
import type { SeedSpec } from '../../lambda/domain/plan-types';
import type { ConditionOperator } from '../../lambda/domain/trust-policy';
import { STS_AUDIENCE, renderEmptyTrustPolicy } from '../../lambda/domain/trust-policy';
import { serviceAccountSubject } from '../../lambda/domain/subject';
import { roleArn } from '../../lambda/domain/iam-names';
import {
  ALLOWED_NAMESPACES_TAG,
  EMPTY_SINCE_TAG,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  ROLE_KIND_TAG,
  SEED_TAG,
} from '../../lambda/ports/tag-keys';
import { ACCESS_CHECK_FOLDER } from '../../lib/backup-bucket';
import { VELERO_BACKUP_TAG } from '../../lib/bucket-access-policy';
import { joinKeyPrefix } from '../../lib/config/key-prefix';
import {
  dumpRoleName,
  dumpServiceAccountName,
  dumpSubPrefix,
} from '../../lib/config/database-dump-config';
import type {
  Decision,
  IamRequest,
  NamedPolicy,
  PolicyDocument,
  PolicySet,
  StackIam,
} from './iam-simulation';

export interface DecisionRow {
  /** Which table: the role (or policy) whose decisions it proves. */
  readonly table: string;
  readonly name: string;
  readonly expect: Decision;
  readonly request: IamRequest;
  readonly policies: PolicySet;
  /** The request carries an OIDC issuer's `sub`/`aud` keys (see decide). */
  readonly webIdentity?: boolean;
}

/** What the stack hands the reconciler about each seed (its RECONCILER_SEEDS variable). */
interface ReconcilerSeedEnv {
  readonly name: string;
  readonly clusters: { name: string; providerArn: string; issuer: string }[];
  readonly conditionOperator: ConditionOperator;
  readonly mode?: 'irsa' | 'pod-identity';
}

const ADMIN_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';
const seedTags = (seed: string) => ({
  [`iam:ResourceTag/${SEED_TAG}`]: seed,
  [`iam:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
});

/** Every table of the stack. */
export function decisionTables(s: StackIam): DecisionRow[] {
  return [
    ...reconcilerRows(s),
    ...trustPolicyRows(s),
    ...seedRoleTrustRows(s),
    ...boundaryRows(s),
    ...veleroRows(s),
    ...bucketPolicyRows(s),
    ...gateRows(s),
    ...auditForwarderRows(s),
    ...dumpRoleRows(s),
    ...cleanupRows(s),
  ];
}

/** Tables the engine cannot decide for this config, and why (the report names them). */
export function unmodelled(s: StackIam): string[] {
  const out: string[] = [];
  for (const seed of s.config.seeds) {
    const arn = s.boundaryArn(s.roleByName(seed.name));
    if (arn !== undefined && !s.managedPolicies().has(arn)) {
      out.push(
        `permissions boundary of ${seed.name}: ${arn} is the organisation's policy, not in the template`,
      );
    }
  }
  if (s.config.bucket.existing) {
    out.push(
      `bucket policy of ${s.config.bucket.name}: the bucket exists already; its policy is not the stack's`,
    );
  }
  return out;
}

function reconcilerSeeds(s: StackIam): ReconcilerSeedEnv[] {
  const fn = Object.values(s.template.Resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      JSON.stringify(r.Properties?.Environment ?? {}).includes('RECONCILER_SEEDS'),
  );
  const env = (fn?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)
    ?.Variables;
  if (env === undefined) throw new Error('no reconciler function with RECONCILER_SEEDS');
  return JSON.parse(s.resolver.resolveString(env.RECONCILER_SEEDS)) as ReconcilerSeedEnv[];
}

interface SeedFacts {
  readonly name: string;
  readonly path: string;
  readonly seedArn: string;
  readonly boundary: string;
  readonly accessPolicy: string;
  /** `<seed>-0` under the derived path. */
  readonly derived: string;
  readonly derivedName: string;
  /** `irsa` or `pod-identity` (no derived roles). */
  readonly mode: string;
}

function seedFacts(s: StackIam): SeedFacts[] {
  return s.config.seeds.map((seed) => {
    const logicalId = s.roleByName(seed.name);
    const boundary = s.boundaryArn(logicalId);
    if (boundary === undefined) throw new Error(`seed ${seed.name} has no permissions boundary`);
    const policies = s.identityPolicies(logicalId);
    if (policies.length !== 1)
      throw new Error(`seed ${seed.name} should carry its access policy only`);
    const accessPolicy = [...s.managedPolicies()].find(([, p]) => p.name === policies[0].name)?.[0];
    if (accessPolicy === undefined) throw new Error(`seed ${seed.name}: access policy not found`);
    const derivedName = `${seed.name}-0`;
    return {
      name: seed.name,
      path: seed.derivedRolePath,
      seedArn: s.roleArn(logicalId),
      boundary,
      accessPolicy,
      derived: roleArn(s.partition, s.account, seed.derivedRolePath, derivedName),
      derivedName,
      mode: seed.mode,
    };
  });
}

/** Adds one row to a table: a named request and the decision IAM must make. */
type AddRow = (
  name: string,
  expect: Decision,
  action: string,
  resource: string,
  context?: Record<string, string | string[]>,
) => void;

/** The rows of one table: one principal under one policy set, one call per request. */
function tableRows(
  rows: DecisionRow[],
  table: string,
  policies: PolicySet,
  principal: string,
  resourceAccount: string,
): AddRow {
  return (name, expect, action, resource, context = {}) => {
    rows.push({
      table,
      name,
      expect,
      policies,
      request: { principal, action, resource, resourceAccount, context },
    });
  };
}

/** Reconciler: every call it makes, and every escalation issue 16 lists. */
function reconcilerRows(s: StackIam): DecisionRow[] {
  const role = s.roleByDescription(/^kubestash-irsa reconciler: manages/);
  const policies: PolicySet = { identityPolicies: s.identityPolicies(role) };
  const principal = s.roleArn(role);
  const table = 'reconciler role';
  const rows: DecisionRow[] = [];
  const row = tableRows(rows, table, policies, principal, s.account);
  const arn = (service: string, resource: string) =>
    `arn:${s.partition}:${service}:${s.config.region}:${s.account}:${resource}`;

  row('GetAccountSummary (trust-policy size quota)', 'Allowed', 'iam:GetAccountSummary', '*');
  row('ListRoles (derived roles under the path)', 'Allowed', 'iam:ListRoles', '*');
  for (const c of s.config.clusters) {
    row(
      `DescribeCluster ${c.name}`,
      'Allowed',
      'eks:DescribeCluster',
      arn('eks', `cluster/${c.name}`),
    );
  }
  row(
    'DescribeCluster of a cluster not in the config',
    'Denied',
    'eks:DescribeCluster',
    arn('eks', 'cluster/not-configured'),
  );
  const queue = eventSourceQueue(s);
  for (const action of [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:ChangeMessageVisibility',
  ]) {
    row(`${action} on its reconcile queue (event source mapping)`, 'Allowed', action, queue);
  }
  row('sqs:SendMessage to its queue (only the bus sends)', 'Denied', 'sqs:SendMessage', queue);

  rows.push(...podIdentityReconcilerRows(s, row));
  const seeds = seedFacts(s).filter((f) => f.mode === 'irsa');
  for (const [i, seed] of seeds.entries()) {
    const other = seeds[(i + 1) % seeds.length];
    const owned = { ...seedTags(seed.name), 'iam:PermissionsBoundary': seed.boundary };
    const createTags = {
      [`aws:RequestTag/${SEED_TAG}`]: seed.name,
      [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
      'aws:TagKeys': [SEED_TAG, MANAGED_BY_TAG],
    };
    const create = { 'iam:PermissionsBoundary': seed.boundary, ...createTags };
    const under = (path: string, name: string) => roleArn(s.partition, s.account, path, name);
    const subPath = under(`${seed.path}${seed.name}-x/`, 'squat');
    const s_ = seed.name;

    // What the reconciler does (lambda/adapters/iam/iam-adapter.ts).
    row(`${s_}: GetRole of the seed`, 'Allowed', 'iam:GetRole', seed.seedArn, {
      'iam:PermissionsBoundary': seed.boundary,
    });
    row(
      `${s_}: ListAttachedRolePolicies of the seed`,
      'Allowed',
      'iam:ListAttachedRolePolicies',
      seed.seedArn,
    );
    row(
      `${s_}: ListAttachedRolePolicies of a derived role`,
      'Allowed',
      'iam:ListAttachedRolePolicies',
      seed.derived,
    );
    row(
      `${s_}: ListRoleTags of a derived role (empty-since)`,
      'Allowed',
      'iam:ListRoleTags',
      seed.derived,
    );
    // aws-credential-manager's roles (issue 18): untagged `<seed>-<i>` at `/`, with the seed's
    // policy attached and no boundary (seed 000 §2.2, §5.4). Read to be recognised, never written.
    const managerRole = under('/', `${seed.name}-0`);
    row(
      `${s_}: ListRoleTags of aws-credential-manager's ${seed.name}-0 at /`,
      'Allowed',
      'iam:ListRoleTags',
      managerRole,
    );
    row(
      `${s_}: ListRoleTags of a role at / without the seed prefix`,
      'Denied',
      'iam:ListRoleTags',
      under('/', 'AdminRole'),
    );
    const managerPolicy = { 'iam:PolicyARN': seed.accessPolicy };
    const writes: [string, Record<string, string | string[]>][] = [
      ['iam:UpdateAssumeRolePolicy', {}],
      ['iam:TagRole', createTags],
      ['iam:UntagRole', { 'aws:TagKeys': [EMPTY_SINCE_TAG] }],
      ['iam:AttachRolePolicy', managerPolicy],
      ['iam:DetachRolePolicy', managerPolicy],
      ['iam:DeleteRole', {}],
    ];
    for (const [action, context] of writes) {
      row(
        `${s_}: ${action.slice(4)} of aws-credential-manager's ${seed.name}-0 at /`,
        'Denied',
        action,
        managerRole,
        context,
      );
    }
    row(
      `${s_}: CreateRole with the boundary and the seed tags`,
      'Allowed',
      'iam:CreateRole',
      seed.derived,
      create,
    );
    row(
      `${s_}: TagRole that CreateRole's tags imply (the role has no tags yet)`,
      'Allowed',
      'iam:TagRole',
      seed.derived,
      createTags,
    );
    row(
      `${s_}: AttachRolePolicy of the seed's access policy`,
      'Allowed',
      'iam:AttachRolePolicy',
      seed.derived,
      { ...owned, 'iam:PolicyARN': seed.accessPolicy },
    );
    row(
      `${s_}: UpdateAssumeRolePolicy of an owned role`,
      'Allowed',
      'iam:UpdateAssumeRolePolicy',
      seed.derived,
      owned,
    );
    row(`${s_}: TagRole empty-since on an owned role`, 'Allowed', 'iam:TagRole', seed.derived, {
      ...seedTags(seed.name),
      [`aws:RequestTag/${EMPTY_SINCE_TAG}`]: '2026-11-29T00:00:00.000Z',
      'aws:TagKeys': [EMPTY_SINCE_TAG],
    });
    row(`${s_}: UntagRole empty-since on an owned role`, 'Allowed', 'iam:UntagRole', seed.derived, {
      ...seedTags(seed.name),
      'aws:TagKeys': [EMPTY_SINCE_TAG],
    });
    row(
      `${s_}: DetachRolePolicy of an owned role`,
      'Allowed',
      'iam:DetachRolePolicy',
      seed.derived,
      { ...owned, 'iam:PolicyARN': seed.accessPolicy },
    );
    row(`${s_}: DeleteRole of an owned role`, 'Allowed', 'iam:DeleteRole', seed.derived, owned);

    // Escalations.
    row(
      `${s_}: CreateRole without a boundary`,
      'Denied',
      'iam:CreateRole',
      seed.derived,
      createTags,
    );
    row(
      `${s_}: CreateRole with AdministratorAccess as boundary`,
      'Denied',
      'iam:CreateRole',
      seed.derived,
      { ...create, 'iam:PermissionsBoundary': ADMIN_POLICY },
    );
    row(`${s_}: CreateRole without the seed tags`, 'Denied', 'iam:CreateRole', seed.derived, {
      'iam:PermissionsBoundary': seed.boundary,
    });
    row(`${s_}: CreateRole tagged as another seed's`, 'Denied', 'iam:CreateRole', seed.derived, {
      ...create,
      [`aws:RequestTag/${SEED_TAG}`]: `${seed.name}x`,
    });
    row(
      `${s_}: CreateRole with a tag key of its own choosing`,
      'Denied',
      'iam:CreateRole',
      seed.derived,
      {
        ...create,
        'aws:RequestTag/team': 'x',
        'aws:TagKeys': [SEED_TAG, MANAGED_BY_TAG, 'team'],
      },
    );
    row(
      `${s_}: CreateRole under another path`,
      'Denied',
      'iam:CreateRole',
      under('/other/', seed.derivedName),
      create,
    );
    row(
      `${s_}: CreateRole under a sub-path of the derived path`,
      'Denied',
      'iam:CreateRole',
      subPath,
      create,
    );
    row(
      `${s_}: CreateRole of a name without the seed prefix`,
      'Denied',
      'iam:CreateRole',
      under(seed.path, 'Admin'),
      create,
    );
    row(
      `${s_}: TagRole of another seed's role as this seed's`,
      'Denied',
      'iam:TagRole',
      seed.derived,
      { ...seedTags(`${seed.name}x`), ...createTags },
    );
    row(
      `${s_}: TagRole re-setting the seed tag of an owned role`,
      'Denied',
      'iam:TagRole',
      seed.derived,
      { ...seedTags(seed.name), ...createTags },
    );
    row(
      `${s_}: TagRole with a tag key of its own choosing`,
      'Denied',
      'iam:TagRole',
      seed.derived,
      {
        ...seedTags(seed.name),
        'aws:RequestTag/team': 'x',
        'aws:TagKeys': ['team'],
      },
    );
    row(
      `${s_}: TagRole of a role outside the path`,
      'Denied',
      'iam:TagRole',
      under('/', seed.derivedName),
      createTags,
    );
    row(`${s_}: TagRole under a sub-path`, 'Denied', 'iam:TagRole', subPath, createTags);
    row(
      `${s_}: UntagRole of a role without the seed tag`,
      'Denied',
      'iam:UntagRole',
      seed.derived,
      { 'aws:TagKeys': [EMPTY_SINCE_TAG] },
    );
    row(
      `${s_}: UntagRole of the seed tag of an owned role`,
      'Denied',
      'iam:UntagRole',
      seed.derived,
      { ...seedTags(seed.name), 'aws:TagKeys': [SEED_TAG] },
    );
    // The two-step escalation of issue 12: TagRole marks an untagged role as the seed's
    // (IAM cannot tell it from CreateRole's implied TagRole; see docs/security-iam.md), but
    // the role still lacks the seed's boundary, so nothing it would unlock is allowed.
    for (const [label, context] of [
      ['without a boundary', seedTags(seed.name)],
      [
        'with a foreign boundary',
        { ...seedTags(seed.name), 'iam:PermissionsBoundary': ADMIN_POLICY },
      ],
    ] as const) {
      row(
        `${s_}: UpdateAssumeRolePolicy of a role tagged as the seed's ${label}`,
        'Denied',
        'iam:UpdateAssumeRolePolicy',
        seed.derived,
        context,
      );
      row(
        `${s_}: AttachRolePolicy (seed's policy) to a role tagged as the seed's ${label}`,
        'Denied',
        'iam:AttachRolePolicy',
        seed.derived,
        { ...context, 'iam:PolicyARN': seed.accessPolicy },
      );
      row(
        `${s_}: DetachRolePolicy of a role tagged as the seed's ${label}`,
        'Denied',
        'iam:DetachRolePolicy',
        seed.derived,
        { ...context, 'iam:PolicyARN': ADMIN_POLICY },
      );
      row(
        `${s_}: DeleteRole of a role tagged as the seed's ${label}`,
        'Denied',
        'iam:DeleteRole',
        seed.derived,
        context,
      );
    }
    row(
      `${s_}: AttachRolePolicy of AdministratorAccess to an owned role`,
      'Denied',
      'iam:AttachRolePolicy',
      seed.derived,
      { ...owned, 'iam:PolicyARN': ADMIN_POLICY },
    );
    if (other.name !== seed.name) {
      row(
        `${s_}: AttachRolePolicy of ${other.name}'s policy to an owned role`,
        'Denied',
        'iam:AttachRolePolicy',
        seed.derived,
        { ...owned, 'iam:PolicyARN': other.accessPolicy },
      );
      row(
        `${s_}: UpdateAssumeRolePolicy of ${other.name}'s role with ${s_}'s tag forged`,
        'Denied',
        'iam:UpdateAssumeRolePolicy',
        other.derived,
        { ...seedTags(seed.name), 'iam:PermissionsBoundary': seed.boundary },
      );
    }
    const seedContext = {
      [`iam:ResourceTag/${ROLE_KIND_TAG}`]: 'seed',
      [`iam:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
      'iam:PermissionsBoundary': seed.boundary,
    };
    row(
      `${s_}: UpdateAssumeRolePolicy of the seed (re-trusting it)`,
      'Denied',
      'iam:UpdateAssumeRolePolicy',
      seed.seedArn,
      seedContext,
    );
    row(`${s_}: DeleteRole of the seed`, 'Denied', 'iam:DeleteRole', seed.seedArn, seedContext);
    row(
      `${s_}: UpdateAssumeRolePolicy of an owned-looking role outside the path`,
      'Denied',
      'iam:UpdateAssumeRolePolicy',
      under('/', seed.derivedName),
      owned,
    );
    row(
      `${s_}: DeleteRole of an owned-looking role under a sub-path`,
      'Denied',
      'iam:DeleteRole',
      subPath,
      owned,
    );
    row(
      `${s_}: PutRolePolicy on an owned role`,
      'Denied',
      'iam:PutRolePolicy',
      seed.derived,
      owned,
    );
    row(
      `${s_}: PutRolePermissionsBoundary on an owned role`,
      'Denied',
      'iam:PutRolePermissionsBoundary',
      seed.derived,
      owned,
    );
    row(
      `${s_}: DeleteRolePermissionsBoundary of an owned role`,
      'Denied',
      'iam:DeleteRolePermissionsBoundary',
      seed.derived,
      owned,
    );
    row(`${s_}: PassRole of a derived role`, 'Denied', 'iam:PassRole', seed.derived, {
      'iam:PassedToService': 'lambda.amazonaws.com',
    });
    row(
      `${s_}: CreatePolicyVersion of the seed's access policy`,
      'Denied',
      'iam:CreatePolicyVersion',
      seed.accessPolicy,
    );
  }
  return rows;
}

function eventSourceQueue(s: StackIam): string {
  const mapping = Object.values(s.template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
  );
  if (mapping === undefined) throw new Error('no event source mapping');
  return s.resolver.resolveString(mapping.Properties?.EventSourceArn);
}

/** Derived roles' trust policies exactly as the planner renders them for the stack's seeds. */
function trustPolicyRows(s: StackIam): DecisionRow[] {
  const rows: DecisionRow[] = [];
  const facts = seedFacts(s);
  const allClusters = new Map(
    reconcilerSeeds(s).flatMap((e) => e.clusters.map((c) => [c.name, c])),
  );
  for (const env of reconcilerSeeds(s).filter((e) => e.mode !== 'pod-identity')) {
    const fact = facts.find((f) => f.name === env.name);
    if (fact === undefined) throw new Error(`no seed ${env.name}`);
    const table = `trust policy of ${env.name}'s derived roles (${env.conditionOperator})`;
    // The seed's namespaces as the reconciler reads them: its allowed-namespaces tag, resolved.
    const own = seedTagNamespaces(s, env.name);
    const [namespace] = own;
    if (namespace === undefined) throw new Error(`seed ${env.name} allows no namespace`);
    // Another team's namespace: one another seed serves and this one does not, or a stranger's.
    const foreignNamespace =
      s.config.seeds
        .flatMap((other) => (other.name === env.name ? [] : seedTagNamespaces(s, other.name)))
        .find((ns) => !own.includes(ns)) ?? 'team-b';
    const listed = 'backup-job-sa';
    const compact = env.conditionOperator === 'StringLike' ? ['team-compact'] : [];
    const spec: SeedSpec = {
      name: env.name,
      arn: fact.seedArn,
      path: fact.path,
      clusters: env.clusters,
      conditionOperator: env.conditionOperator,
      roleCreationLimit: 10,
      compactNamespaces: compact,
    };
    const result = plan({
      seeds: [spec],
      allowedNamespaces: [...own, ...compact],
      emptyRoleGracePeriodSeconds: 3600,
      now: '2026-11-29T00:00:00.000Z',
      roles: [],
      serviceAccounts: env.clusters.flatMap((c) => [
        { cluster: c.name, namespace, name: listed, seedRole: env.name },
        // Another team annotates its ServiceAccount with this seed: the planner must refuse it.
        { cluster: c.name, namespace: foreignNamespace, name: listed, seedRole: env.name },
        ...compact.map((ns) => ({
          cluster: c.name,
          namespace: ns,
          name: 'first',
          seedRole: env.name,
        })),
      ]),
    });
    if (result.creates.length !== 1) throw new Error(`expected one derived role for ${env.name}`);
    const refusedForeign = result.refusals.filter(
      (r) => r.namespace === foreignNamespace && r.reason === 'NamespaceNotAllowed',
    );
    if (refusedForeign.length !== env.clusters.length) {
      throw new Error(`${env.name}: the planner did not refuse namespace ${foreignNamespace}`);
    }
    const trust = JSON.parse(result.creates[0].trustPolicy) as PolicyDocument;
    const resource = roleArn(s.partition, s.account, fact.path, result.creates[0].roleName);
    const row = (
      name: string,
      expect: Decision,
      principal: string,
      context: Record<string, string>,
      policy = trust,
    ) =>
      rows.push({
        table,
        name,
        expect,
        webIdentity: true,
        policies: { resourcePolicy: policy },
        request: {
          principal,
          action: 'sts:AssumeRoleWithWebIdentity',
          resource,
          resourceAccount: s.account,
          context,
        },
      });
    for (const c of env.clusters) {
      const token = (sub: string, aud = STS_AUDIENCE) => ({
        [`${c.issuer}:sub`]: sub,
        [`${c.issuer}:aud`]: aud,
      });
      row(
        `listed ServiceAccount on ${c.name}`,
        'Allowed',
        c.providerArn,
        token(serviceAccountSubject(namespace, listed)),
      );
      row(
        `unlisted ServiceAccount in the same namespace on ${c.name}`,
        'Denied',
        c.providerArn,
        token(serviceAccountSubject(namespace, 'other')),
      );
      row(
        `ServiceAccount of another team's namespace (${foreignNamespace}) that names ${env.name} on ${c.name}`,
        'Denied',
        c.providerArn,
        token(serviceAccountSubject(foreignNamespace, listed)),
      );
      row(
        `listed name in another namespace on ${c.name}`,
        'Denied',
        c.providerArn,
        token(serviceAccountSubject('kube-system', listed)),
      );
      row(
        `a subject that only looks like a pattern on ${c.name}`,
        'Denied',
        c.providerArn,
        token(serviceAccountSubject(namespace, 'backup-job-*')),
      );
      row(
        `wrong audience on ${c.name}`,
        'Denied',
        c.providerArn,
        token(serviceAccountSubject(namespace, listed), 'https://kubernetes.default.svc'),
      );
      row(
        `listed ServiceAccount, role emptied (trusts nobody) on ${c.name}`,
        'Denied',
        c.providerArn,
        token(serviceAccountSubject(namespace, listed)),
        JSON.parse(
          renderEmptyTrustPolicy({ providerArn: c.providerArn, issuer: c.issuer }),
        ) as PolicyDocument,
      );
      for (const ns of compact) {
        row(
          `compact namespace ${ns}: any ServiceAccount in it on ${c.name}`,
          'Allowed',
          c.providerArn,
          token(serviceAccountSubject(ns, 'created-later')),
        );
        row(
          `compact namespace ${ns}: a namespace that only starts like it on ${c.name}`,
          'Denied',
          c.providerArn,
          token(serviceAccountSubject(`${ns}-2`, 'first')),
        );
      }
    }
    // Another cluster's issuer: a cluster this seed does not serve, or (one cluster) a stranger.
    const foreign = [...allClusters.values()].find(
      (c) => !env.clusters.some((e) => e.name === c.name),
    ) ?? {
      name: 'stranger',
      issuer: 'oidc.eks.us-east-1.amazonaws.com/id/0000000000000000000000000000STRANGER',
      providerArn: `arn:${s.partition}:iam::${s.account}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0000000000000000000000000000STRANGER`,
    };
    row(
      `listed ServiceAccount from another cluster's issuer (${foreign.name})`,
      'Denied',
      foreign.providerArn,
      {
        [`${foreign.issuer}:sub`]: serviceAccountSubject(namespace, listed),
        [`${foreign.issuer}:aud`]: STS_AUDIENCE,
      },
    );
  }
  return rows;
}

/** A seed's namespaces as its allowed-namespaces tag carries them (console parameters at their defaults). */
function seedTagNamespaces(s: StackIam, seedName: string): string[] {
  const tags = (s.resolver.resource(s.roleByName(seedName)).Properties?.Tags ?? []) as {
    Key: string;
    Value: unknown;
  }[];
  const tag = tags.find((t) => t.Key === ALLOWED_NAMESPACES_TAG);
  if (tag === undefined) throw new Error(`seed ${seedName} has no ${ALLOWED_NAMESPACES_TAG} tag`);
  return s.resolver
    .resolveString(tag.Value)
    .split(/\s+/)
    .filter((n) => n !== '');
}

/** The seed roles' own trust policies, from the template. */
function seedRoleTrustRows(s: StackIam): DecisionRow[] {
  const rows: DecisionRow[] = podIdentityTrustRows(s);
  for (const seed of s.config.seeds.filter((x) => x.mode === 'irsa')) {
    const logicalId = s.roleByName(seed.name);
    const trust = s.trustPolicy(logicalId);
    const env = reconcilerSeeds(s).find((e) => e.name === seed.name);
    if (env === undefined) throw new Error(`no reconciler seed ${seed.name}`);
    for (const c of env.clusters) {
      const row = (name: string, expect: Decision, sub: string) =>
        rows.push({
          table: `trust policy of the seed role ${seed.name}`,
          name: `${name} on ${c.name}`,
          expect,
          webIdentity: true,
          policies: { resourcePolicy: trust },
          request: {
            principal: c.providerArn,
            action: 'sts:AssumeRoleWithWebIdentity',
            resource: s.roleArn(logicalId),
            resourceAccount: s.account,
            context: { [`${c.issuer}:sub`]: sub, [`${c.issuer}:aud`]: STS_AUDIENCE },
          },
        });
      row(
        'the KubeStash operator',
        'Allowed',
        serviceAccountSubject(seed.operator.namespace, seed.operator.serviceAccount),
      );
      row(
        'another ServiceAccount of the operator namespace',
        'Denied',
        serviceAccountSubject(seed.operator.namespace, 'default'),
      );
      row(
        'a backup Job ServiceAccount (it gets a derived role instead)',
        'Denied',
        serviceAccountSubject('demo', 'backup-job-sa'),
      );
    }
  }
  return rows;
}

/**
 * The trust of a pod-identity seed, as EKS Pod Identity asks for it: the
 * service principal `pods.eks.amazonaws.com` calls sts:AssumeRole and
 * sts:TagSession with the session tags it sets (`eks-cluster-arn`,
 * `kubernetes-namespace`, … per
 * https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html).
 */
function podIdentityTrustRows(s: StackIam): DecisionRow[] {
  const rows: DecisionRow[] = [];
  for (const seed of s.config.seeds.filter((x) => x.mode === 'pod-identity')) {
    const logicalId = s.roleByName(seed.name);
    const trust = s.trustPolicy(logicalId);
    const served = clustersOfSeedNames(s, seed.name);
    const others = s.config.clusters.map((c) => c.name).filter((n) => !served.includes(n));
    const arn = (name: string) =>
      `arn:${s.partition}:eks:${s.config.region}:${s.account}:cluster/${name}`;
    const row = (
      name: string,
      expect: Decision,
      action: string,
      context: Record<string, string | string[]>,
      principal = POD_IDENTITY_PRINCIPAL,
    ) =>
      rows.push({
        table: `trust policy of the pod-identity seed ${seed.name}`,
        name,
        expect,
        policies: { resourcePolicy: trust },
        request: {
          principal,
          action,
          resource: s.roleArn(logicalId),
          resourceAccount: s.account,
          context,
        },
      });
    const tags = (cluster: string, namespace: string) => ({
      'aws:RequestTag/eks-cluster-arn': arn(cluster),
      'aws:RequestTag/eks-cluster-name': cluster,
      'aws:RequestTag/kubernetes-namespace': namespace,
      'aws:RequestTag/kubernetes-service-account': 'backup-job-sa',
      'aws:TagKeys': [
        'eks-cluster-arn',
        'eks-cluster-name',
        'kubernetes-namespace',
        'kubernetes-service-account',
      ],
    });
    for (const cluster of served) {
      for (const action of ['sts:AssumeRole', 'sts:TagSession']) {
        for (const namespace of s.config.allowedNamespaces) {
          row(
            `${action}: a pod in ${cluster}/${namespace}`,
            'Allowed',
            action,
            tags(cluster, namespace),
          );
        }
        row(
          `${action}: the KubeStash operator's pod in ${cluster}/${seed.operator.namespace}`,
          'Allowed',
          action,
          tags(cluster, seed.operator.namespace),
        );
        row(
          `${action}: a pod of a namespace the seed does not serve, in ${cluster}`,
          'Denied',
          action,
          tags(cluster, 'kube-system'),
        );
      }
      row(
        `sts:AssumeRole without the session tags (not through EKS Pod Identity), ${cluster}`,
        'Denied',
        'sts:AssumeRole',
        {},
      );
      row(
        `sts:AssumeRole by another service principal with the same tags, ${cluster}`,
        'Denied',
        'sts:AssumeRole',
        tags(cluster, s.config.allowedNamespaces[0]),
        'ec2.amazonaws.com',
      );
    }
    for (const cluster of [...others, 'not-configured']) {
      row(
        `sts:AssumeRole: a pod of cluster ${cluster}, which the seed does not serve`,
        'Denied',
        'sts:AssumeRole',
        tags(cluster, s.config.allowedNamespaces[0]),
      );
    }
  }
  return rows;
}

/** The service principal EKS Pod Identity assumes roles as. */
const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';

/** The clusters a seed serves (all when its config names none). */
function clustersOfSeedNames(s: StackIam, seedName: string): string[] {
  const seed = s.config.seeds.find((x) => x.name === seedName);
  return seed?.clusters ?? s.config.clusters.map((c) => c.name);
}

/**
 * The reconciler in pod-identity mode (lambda/adapters/eks/): associations
 * in the seed's clusters only, tagged as the seed's on create and deleted only
 * when so tagged, and the seed passed to EKS Pod Identity only.
 */
function podIdentityReconcilerRows(s: StackIam, row: AddRow): DecisionRow[] {
  const facts = seedFacts(s);
  for (const seed of facts.filter((f) => f.mode === 'pod-identity')) {
    const served = clustersOfSeedNames(s, seed.name);
    const others = [
      ...s.config.clusters.map((c) => c.name).filter((n) => !served.includes(n)),
      'not-configured',
    ];
    const arn = (resource: string) =>
      `arn:${s.partition}:eks:${s.config.region}:${s.account}:${resource}`;
    const tags = {
      [`aws:RequestTag/${SEED_TAG}`]: seed.name,
      [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
      'aws:TagKeys': [SEED_TAG, MANAGED_BY_TAG],
    };
    const ours = { [`aws:ResourceTag/${SEED_TAG}`]: seed.name };
    const n = seed.name;
    for (const c of served) {
      const association = arn(`podidentityassociation/${c}/a-0123456789abcdef0`);
      row(
        `${n}: ListPodIdentityAssociations in ${c}`,
        'Allowed',
        'eks:ListPodIdentityAssociations',
        arn(`cluster/${c}`),
      );
      row(
        `${n}: CreatePodIdentityAssociation in ${c} with the seed tags`,
        'Allowed',
        'eks:CreatePodIdentityAssociation',
        arn(`cluster/${c}`),
        tags,
      );
      row(
        `${n}: TagResource that the create's tags imply`,
        'Allowed',
        'eks:TagResource',
        association,
        tags,
      );
      row(
        `${n}: DescribePodIdentityAssociation in ${c}`,
        'Allowed',
        'eks:DescribePodIdentityAssociation',
        association,
      );
      row(
        `${n}: DeletePodIdentityAssociation of its own association in ${c}`,
        'Allowed',
        'eks:DeletePodIdentityAssociation',
        association,
        ours,
      );
      row(
        `${n}: CreatePodIdentityAssociation without the seed tags`,
        'Denied',
        'eks:CreatePodIdentityAssociation',
        arn(`cluster/${c}`),
      );
      row(
        `${n}: CreatePodIdentityAssociation with a tag key of its own choosing`,
        'Denied',
        'eks:CreatePodIdentityAssociation',
        arn(`cluster/${c}`),
        { ...tags, 'aws:TagKeys': [SEED_TAG, MANAGED_BY_TAG, 'owner'] },
      );
      row(
        `${n}: DeletePodIdentityAssociation of someone else's association in ${c}`,
        'Denied',
        'eks:DeletePodIdentityAssociation',
        association,
      );
      row(
        `${n}: DeletePodIdentityAssociation of another seed's association in ${c}`,
        'Denied',
        'eks:DeletePodIdentityAssociation',
        association,
        { [`aws:ResourceTag/${SEED_TAG}`]: `${n}x` },
      );
      row(
        `${n}: UpdatePodIdentityAssociation (re-pointing someone's association) in ${c}`,
        'Denied',
        'eks:UpdatePodIdentityAssociation',
        association,
        ours,
      );
    }
    for (const c of others) {
      row(
        `${n}: CreatePodIdentityAssociation in cluster ${c}, which the seed does not serve`,
        'Denied',
        'eks:CreatePodIdentityAssociation',
        arn(`cluster/${c}`),
        tags,
      );
    }
    row(`${n}: PassRole of the seed to EKS Pod Identity`, 'Allowed', 'iam:PassRole', seed.seedArn, {
      'iam:PassedToService': POD_IDENTITY_PRINCIPAL,
    });
    row(`${n}: PassRole of the seed to EC2`, 'Denied', 'iam:PassRole', seed.seedArn, {
      'iam:PassedToService': 'ec2.amazonaws.com',
    });
    row(
      `${n}: PassRole of the seed without naming a service`,
      'Denied',
      'iam:PassRole',
      seed.seedArn,
    );
    row(
      `${n}: PassRole of an administrator role to EKS Pod Identity`,
      'Denied',
      'iam:PassRole',
      roleArn(s.partition, s.account, '/', 'Admin'),
      { 'iam:PassedToService': POD_IDENTITY_PRINCIPAL },
    );
    row(
      `${n}: CreateRole of a derived role (pod-identity seeds have none)`,
      'Denied',
      'iam:CreateRole',
      seed.derived,
      { 'iam:PermissionsBoundary': seed.boundary, ...tags },
    );
  }
  return [];
}

function objectArn(s: StackIam, key: string): string {
  return `arn:${s.partition}:s3:::${s.config.bucket.name}/${key}`;
}

const TLS = { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3' };

/** A derived role with an over-broad identity policy: the boundary alone must hold it. */
/** The tags Velero's AWS plugin sends with CreateSnapshot (and, copied, with CreateVolume). */
const veleroRequestTags = {
  [`aws:RequestTag/${VELERO_BACKUP_TAG}`]: 'nightly-20261130010000',
  'aws:RequestTag/velero.io/pv': 'pvc-0b1c2d3e',
  'aws:TagKeys': [VELERO_BACKUP_TAG, 'velero.io/pv'],
};

/**
 * The Velero preset's EC2 calls (issue 12 point 4), as a derived role makes
 * them through its access policy and under its boundary: each call Velero's
 * AWS plugin makes is Allowed, and each use of the same actions on what is not
 * Velero's is Denied. EC2's keys: Service Authorization Reference, Amazon EC2.
 */
function veleroRows(s: StackIam): DecisionRow[] {
  const rows: DecisionRow[] = [];
  for (const fact of seedFacts(s)) {
    const seed = s.config.seeds.find((x) => x.name === fact.name);
    if (seed?.accessPolicy !== 'velero') continue;
    const boundary = s.managedPolicies().get(fact.boundary);
    const policies: PolicySet = {
      identityPolicies: [s.managedPolicy(fact.accessPolicy)],
      ...(boundary === undefined ? {} : { permissionsBoundary: boundary }),
    };
    const ec2 = (resource: string, account = s.account) =>
      `arn:${s.partition}:ec2:${s.config.region}:${account}:${resource}`;
    const volume = ec2('volume/vol-0123456789abcdef0');
    const snapshot = ec2('snapshot/snap-0123456789abcdef0', '');
    const veleroSnapshot = { [`ec2:ResourceTag/${VELERO_BACKUP_TAG}`]: 'nightly-20261130010000' };
    const row = tableRows(
      rows,
      `Velero preset EC2 calls of ${fact.name}'s derived roles`,
      policies,
      fact.derived,
      s.account,
    );
    row('DescribeVolumes (no resource-level permissions)', 'Allowed', 'ec2:DescribeVolumes', '*');
    row('DescribeSnapshots', 'Allowed', 'ec2:DescribeSnapshots', '*');
    row('CreateSnapshot: the volume', 'Allowed', 'ec2:CreateSnapshot', volume);
    row(
      'CreateSnapshot: the snapshot, tagged as Velero tags it',
      'Allowed',
      'ec2:CreateSnapshot',
      snapshot,
      veleroRequestTags,
    );
    row(
      'CreateSnapshot: a snapshot without velero.io/backup',
      'Denied',
      'ec2:CreateSnapshot',
      snapshot,
      {
        'aws:RequestTag/Name': 'mine',
        'aws:TagKeys': ['Name'],
      },
    );
    row('CreateTags as part of CreateSnapshot', 'Allowed', 'ec2:CreateTags', snapshot, {
      ...veleroRequestTags,
      'ec2:CreateAction': 'CreateSnapshot',
    });
    row('CreateTags as part of CreateVolume', 'Allowed', 'ec2:CreateTags', volume, {
      ...veleroRequestTags,
      'ec2:CreateAction': 'CreateVolume',
    });
    row(
      "CreateTags giving an existing snapshot Velero's tag (to delete it next)",
      'Denied',
      'ec2:CreateTags',
      snapshot,
      veleroRequestTags,
    );
    row(
      'CreateTags on an instance',
      'Denied',
      'ec2:CreateTags',
      ec2('instance/i-0123456789abcdef0'),
      {
        ...veleroRequestTags,
        'ec2:CreateAction': 'RunInstances',
      },
    );
    row(
      'DeleteSnapshot of a Velero snapshot',
      'Allowed',
      'ec2:DeleteSnapshot',
      snapshot,
      veleroSnapshot,
    );
    row(
      'DeleteSnapshot of a snapshot without velero.io/backup',
      'Denied',
      'ec2:DeleteSnapshot',
      snapshot,
      {
        'ec2:ResourceTag/Name': 'database-golden-image',
      },
    );
    row(
      'CreateVolume from a Velero snapshot: the snapshot',
      'Allowed',
      'ec2:CreateVolume',
      snapshot,
      veleroSnapshot,
    );
    row('CreateVolume from a foreign snapshot', 'Denied', 'ec2:CreateVolume', snapshot, {
      'ec2:ResourceTag/Name': 'database-golden-image',
    });
    row(
      'CreateVolume: the volume, tagged from the snapshot',
      'Allowed',
      'ec2:CreateVolume',
      volume,
      veleroRequestTags,
    );
    row('CreateVolume: an untagged volume', 'Denied', 'ec2:CreateVolume', volume);
    row(
      'ModifySnapshotAttribute (share a snapshot)',
      'Denied',
      'ec2:ModifySnapshotAttribute',
      snapshot,
      veleroSnapshot,
    );
    row('DeleteVolume', 'Denied', 'ec2:DeleteVolume', volume);
    row('AttachVolume', 'Denied', 'ec2:AttachVolume', volume);
  }
  return rows;
}

function boundaryRows(s: StackIam): DecisionRow[] {
  const rows: DecisionRow[] = [];
  const broad: NamedPolicy = {
    name: 'OverBroad',
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  };
  const bucketArn = `arn:${s.partition}:s3:::${s.config.bucket.name}`;
  const prefix = s.config.bucket.prefix;
  const inside = objectArn(s, joinKeyPrefix(prefix, 'repo/data/00/abc'));
  for (const fact of seedFacts(s)) {
    const boundary = s.managedPolicies().get(fact.boundary);
    if (boundary === undefined) continue; // an imported boundary: see unmodelled()
    const seed = s.config.seeds.find((x) => x.name === fact.name);
    if (seed === undefined) continue;
    const row = tableRows(
      rows,
      `permissions boundary of ${fact.name}'s derived roles (${seed.accessPolicy})`,
      { identityPolicies: [broad], permissionsBoundary: boundary },
      fact.derived,
      s.account,
    );
    switch (seed.accessPolicy) {
      case 'kubestash':
        row('GetObject of a backup', 'Allowed', 's3:GetObject', inside, TLS);
        row('PutObject of a backup', 'Allowed', 's3:PutObject', inside, TLS);
        row('ListBucket under the prefix', 'Allowed', 's3:ListBucket', bucketArn, {
          ...TLS,
          's3:prefix': `${prefix}/`,
        });
        break;
      case 'velero':
        row(
          'CreateSnapshot tagged as Velero tags it',
          'Allowed',
          'ec2:CreateSnapshot',
          `arn:${s.partition}:ec2:${s.config.region}::snapshot/snap-0123456789abcdef0`,
          veleroRequestTags,
        );
        row(
          'CreateSnapshot without the velero.io/backup tag',
          'Denied',
          'ec2:CreateSnapshot',
          `arn:${s.partition}:ec2:${s.config.region}::snapshot/snap-0123456789abcdef0`,
        );
        row('PutObject of a backup', 'Allowed', 's3:PutObject', inside, TLS);
        break;
      case 'database-dump':
        row('PutObject of a dump', 'Allowed', 's3:PutObject', inside, TLS);
        row(
          'GetObject of a backup (the preset only uploads)',
          'Denied',
          's3:GetObject',
          inside,
          TLS,
        );
        for (const secret of seed.secretArns ?? []) {
          row(
            'GetSecretValue of its database secret',
            'Allowed',
            'secretsmanager:GetSecretValue',
            secret,
          );
        }
        break;
    }
    row('DeleteBucket', 'Denied', 's3:DeleteBucket', bucketArn, TLS);
    row('PutBucketPolicy', 'Denied', 's3:PutBucketPolicy', bucketArn, TLS);
    row(
      'GetObject in another bucket',
      'Denied',
      's3:GetObject',
      `arn:${s.partition}:s3:::someone-elses-bucket/x`,
      TLS,
    );
    row(
      'iam:CreateRole',
      'Denied',
      'iam:CreateRole',
      roleArn(s.partition, s.account, '/', 'Escalated'),
    );
    row(
      'sts:AssumeRole of the reconciler role',
      'Denied',
      'sts:AssumeRole',
      s.roleArn(s.roleByDescription(/^kubestash-irsa reconciler: manages/)),
    );
    row(
      'GetSecretValue of an arbitrary secret',
      'Denied',
      'secretsmanager:GetSecretValue',
      `arn:${s.partition}:secretsmanager:${s.config.region}:${s.account}:secret:other-AbCdEf`,
    );
    if (s.config.bucket.restrictToPrefix && prefix !== '') {
      row(
        'GetObject outside the prefix (restrictToPrefix)',
        'Denied',
        's3:GetObject',
        objectArn(s, 'elsewhere/x'),
        TLS,
      );
      row(
        'ListBucket outside the prefix (restrictToPrefix)',
        'Denied',
        's3:ListBucket',
        bucketArn,
        { ...TLS, 's3:prefix': 'elsewhere/' },
      );
    }
  }
  return rows;
}

/** The backup bucket's policy, with the seed's access policy as the caller's identity policy. */
function bucketPolicyRows(s: StackIam): DecisionRow[] {
  const policy = s.bucketPolicy(s.config.bucket.name);
  if (policy === undefined) return [];
  const rows: DecisionRow[] = [];
  const prefix = s.config.bucket.prefix;
  const bucketArn = `arn:${s.partition}:s3:::${s.config.bucket.name}`;
  for (const fact of seedFacts(s)) {
    const seed = s.config.seeds.find((x) => x.name === fact.name);
    if (seed === undefined || seed.accessPolicy !== 'kubestash') continue;
    const identityPolicies = [s.managedPolicy(fact.accessPolicy)];
    const row = tableRows(
      rows,
      `bucket policy with ${fact.name}'s access policy`,
      { identityPolicies, resourcePolicy: policy },
      fact.derived,
      s.account,
    );
    const inside = objectArn(s, joinKeyPrefix(prefix, 'repo/config'));
    row('GetObject over TLS 1.3', 'Allowed', 's3:GetObject', inside, TLS);
    row('GetObject without TLS', 'Denied', 's3:GetObject', inside, {
      'aws:SecureTransport': 'false',
    });
    row('GetObject over TLS 1.1', 'Denied', 's3:GetObject', inside, {
      'aws:SecureTransport': 'true',
      's3:TlsVersion': '1.1',
    });
    row('PutObject without TLS', 'Denied', 's3:PutObject', inside, {
      'aws:SecureTransport': 'false',
    });
    row('ListBucket without TLS', 'Denied', 's3:ListBucket', bucketArn, {
      'aws:SecureTransport': 'false',
      's3:prefix': `${prefix}/`,
    });
    row(
      'PutObject of an access-check probe',
      'Allowed',
      's3:PutObject',
      objectArn(s, joinKeyPrefix(prefix, `${ACCESS_CHECK_FOLDER}/probe`)),
      TLS,
    );
    if (s.config.bucket.restrictToPrefix && prefix !== '') {
      row(
        'GetObject outside the prefix (restrictToPrefix)',
        'Denied',
        's3:GetObject',
        objectArn(s, 'elsewhere/x'),
        TLS,
      );
      row(
        'PutObject outside the prefix (restrictToPrefix)',
        'Denied',
        's3:PutObject',
        objectArn(s, 'elsewhere/x'),
        TLS,
      );
      row('ListBucket of the prefix (restrictToPrefix)', 'Allowed', 's3:ListBucket', bucketArn, {
        ...TLS,
        's3:prefix': `${prefix}/repo/`,
      });
      row(
        'ListBucket of the whole bucket (restrictToPrefix)',
        'Denied',
        's3:ListBucket',
        bucketArn,
        { ...TLS, 's3:prefix': '' },
      );
    }
  }
  return rows;
}

/** Rows for a Lambda execution role found by its description. */
function functionRoleRows(
  s: StackIam,
  table: string,
  description: RegExp,
  build: (row: AddRow, logGroup: string) => void,
): DecisionRow[] {
  const role = s.roleByDescription(description);
  const policies: PolicySet = { identityPolicies: s.identityPolicies(role) };
  const principal = s.roleArn(role);
  const rows: DecisionRow[] = [];
  const logStatement = policies.identityPolicies
    ?.flatMap((p) => p.policy.Statement)
    .find((st) => JSON.stringify(st.Action).includes('logs:PutLogEvents'));
  const logGroup = String([logStatement?.Resource].flat()[0]).replace(/:\*$/, '');
  build(
    (name, expect, action, resource, context = {}) =>
      rows.push({
        table,
        name,
        expect,
        policies,
        request: { principal, action, resource, resourceAccount: s.account, context },
      }),
    logGroup,
  );
  return rows;
}

function busArn(s: StackIam): string {
  const [id] =
    Object.entries(s.template.Resources).find(([, r]) => r.Type === 'AWS::Events::EventBus') ?? [];
  if (id === undefined) throw new Error('no event bus');
  return s.resolver.resolveString({ 'Fn::GetAtt': [id, 'Arn'] });
}

function logRows(
  row: (name: string, expect: Decision, action: string, resource: string) => void,
  s: StackIam,
  logGroup: string,
): void {
  row(
    'PutLogEvents to its own log group',
    'Allowed',
    'logs:PutLogEvents',
    `${logGroup}:log-stream:2026/11/29/abc`,
  );
  row(
    'PutLogEvents to another log group',
    'Denied',
    'logs:PutLogEvents',
    `arn:${s.partition}:logs:${s.config.region}:${s.account}:log-group:/aws/lambda/other:log-stream:x`,
  );
}

/** Both event publishers put on the reconciler's bus, and only there. */
function busRows(
  row: (name: string, expect: Decision, action: string, resource: string) => void,
  s: StackIam,
): void {
  row('PutEvents (a hint) to the reconciler bus', 'Allowed', 'events:PutEvents', busArn(s));
  row(
    'PutEvents to the default bus',
    'Denied',
    'events:PutEvents',
    `arn:${s.partition}:events:${s.config.region}:${s.account}:event-bus/default`,
  );
}

function gateRows(s: StackIam): DecisionRow[] {
  if (!s.config.jobGate.enabled) return [];
  return functionRoleRows(s, 'job gate role', /^Execution role of job-gate$/, (row, logGroup) => {
    busRows(row, s);
    logRows(row, s, logGroup);
    row(
      'GetObject from the backup bucket (it only names it)',
      'Denied',
      's3:GetObject',
      objectArn(s, 'x'),
      TLS,
    );
    row(
      'iam:UpdateAssumeRolePolicy of a derived role',
      'Denied',
      'iam:UpdateAssumeRolePolicy',
      seedFacts(s)[0].derived,
    );
    row(
      'sqs:SendMessage to the reconcile queue (bypassing the bus)',
      'Denied',
      'sqs:SendMessage',
      eventSourceQueue(s),
    );
    // Its clusters' webhook tokens (issue 12), when the stack keeps them in Secrets Manager.
    for (const secret of gateTokenSecrets(s)) {
      row(
        `GetSecretValue of the webhook token ${secret}`,
        'Allowed',
        'secretsmanager:GetSecretValue',
        secret,
      );
      row(
        `PutSecretValue of the webhook token ${secret}`,
        'Denied',
        'secretsmanager:PutSecretValue',
        secret,
      );
    }
    for (const dump of s.config.databaseDumps) {
      row(
        `GetSecretValue of the database secret of ${dump.name}`,
        'Denied',
        'secretsmanager:GetSecretValue',
        dump.secretArn,
      );
    }
    row(
      'GetSecretValue of an arbitrary secret',
      'Denied',
      'secretsmanager:GetSecretValue',
      `arn:${s.partition}:secretsmanager:${s.config.region}:${s.account}:secret:other-AbCdEf`,
    );
  });
}

/** The ARNs of the Secrets Manager secrets the template makes for the job gate. */
function gateTokenSecrets(s: StackIam): string[] {
  return Object.entries(s.template.Resources)
    .filter(
      ([, r]) =>
        r.Type === 'AWS::SecretsManager::Secret' &&
        /job gate/.test(s.resolver.resolveString(r.Properties?.Description ?? '')),
    )
    .map(([id]) => s.resolver.resolveString({ Ref: id }));
}

function auditForwarderRows(s: StackIam): DecisionRow[] {
  if (!s.config.clusters.some((c) => c.auditLogs)) return [];
  return functionRoleRows(
    s,
    'audit log forwarder role',
    /^Execution role of audit-log-forwarder$/,
    (row, logGroup) => {
      busRows(row, s);
      logRows(row, s, logGroup);
      row(
        'logs:PutSubscriptionFilter on the audit log group',
        'Denied',
        'logs:PutSubscriptionFilter',
        `arn:${s.partition}:logs:${s.config.region}:${s.account}:log-group:/aws/eks/${s.config.clusters[0].name}/cluster`,
      );
    },
  );
}

function cleanupRows(s: StackIam): DecisionRow[] {
  return functionRoleRows(
    s,
    'derived-role cleanup role',
    /^Execution role of derived-role-cleanup$/,
    (row, logGroup) => {
      row('ListRoles', 'Allowed', 'iam:ListRoles', '*');
      logRows(row, s, logGroup);
      for (const fact of seedFacts(s)) {
        const owned = { ...seedTags(fact.name), 'iam:PermissionsBoundary': fact.boundary };
        row(
          `${fact.name}: ListAttachedRolePolicies of a derived role`,
          'Allowed',
          'iam:ListAttachedRolePolicies',
          fact.derived,
        );
        row(
          `${fact.name}: DetachRolePolicy of an owned role`,
          'Allowed',
          'iam:DetachRolePolicy',
          fact.derived,
          { ...owned, 'iam:PolicyARN': fact.accessPolicy },
        );
        row(
          `${fact.name}: DeleteRole of an owned role`,
          'Allowed',
          'iam:DeleteRole',
          fact.derived,
          owned,
        );
        row(
          `${fact.name}: DeleteRole of a role with the seed tag but not its boundary`,
          'Denied',
          'iam:DeleteRole',
          fact.derived,
          seedTags(fact.name),
        );
        row(`${fact.name}: DeleteRole of the seed`, 'Denied', 'iam:DeleteRole', fact.seedArn, {
          'iam:PermissionsBoundary': fact.boundary,
        });
        row(
          `${fact.name}: DeleteRole of an owned-looking role outside the path`,
          'Denied',
          'iam:DeleteRole',
          roleArn(s.partition, s.account, '/', fact.derivedName),
          owned,
        );
        row(
          `${fact.name}: UpdateAssumeRolePolicy of an owned role`,
          'Denied',
          'iam:UpdateAssumeRolePolicy',
          fact.derived,
          owned,
        );
      }
    },
  );
}

function dumpRoleRows(s: StackIam): DecisionRow[] {
  const rows: DecisionRow[] = [];
  for (const dump of s.config.databaseDumps) {
    const logicalId = s.roleByName(dumpRoleName(s.config.stackName, dump));
    const table = `database-dump role ${dump.name}`;
    const principal = s.roleArn(logicalId);
    const boundaryArn = s.boundaryArn(logicalId);
    const boundary = boundaryArn === undefined ? undefined : s.managedPolicies().get(boundaryArn);
    if (boundaryArn !== undefined && boundary === undefined) continue; // imported boundary: unmodelled
    const policies: PolicySet = {
      identityPolicies: s.identityPolicies(logicalId),
      permissionsBoundary: boundary,
    };
    const row = tableRows(rows, table, policies, principal, s.account);
    const folder = joinKeyPrefix(s.config.bucket.prefix, dumpSubPrefix(dump));
    row(
      'PutObject of a dump in its folder',
      'Allowed',
      's3:PutObject',
      objectArn(s, `${folder}/2026-11-29T00:00.sql.gz`),
      TLS,
    );
    row(
      'PutObject outside its folder',
      'Denied',
      's3:PutObject',
      objectArn(s, joinKeyPrefix(s.config.bucket.prefix, 'repo/config')),
      TLS,
    );
    row(
      'GetObject of a dump (it only uploads)',
      'Denied',
      's3:GetObject',
      objectArn(s, `${folder}/old.sql.gz`),
      TLS,
    );
    row(
      'DeleteObject of a dump',
      'Denied',
      's3:DeleteObject',
      objectArn(s, `${folder}/old.sql.gz`),
      TLS,
    );
    row(
      'GetSecretValue of its database secret',
      'Allowed',
      'secretsmanager:GetSecretValue',
      dump.secretArn,
    );
    row(
      'GetSecretValue of another secret',
      'Denied',
      'secretsmanager:GetSecretValue',
      `arn:${s.partition}:secretsmanager:${s.config.region}:${s.account}:secret:other-AbCdEf`,
    );
    row('secretsmanager:ListSecrets', 'Denied', 'secretsmanager:ListSecrets', '*');
    const trust = s.trustPolicy(logicalId);
    const cluster = reconcilerSeeds(s)
      .flatMap((e) => e.clusters)
      .find((c) => c.name === (dump.cluster ?? s.config.clusters[0].name));
    if (cluster === undefined) continue;
    const sa = serviceAccountSubject(dump.namespace, dumpServiceAccountName(dump));
    for (const [name, expect, sub] of [
      ['its ServiceAccount assumes it', 'Allowed', sa],
      [
        'another ServiceAccount of its namespace',
        'Denied',
        serviceAccountSubject(dump.namespace, 'default'),
      ],
      ['a ServiceAccount whose name only starts like it', 'Denied', `${sa}-2`],
    ] as const) {
      rows.push({
        table,
        name,
        expect,
        webIdentity: true,
        policies: { resourcePolicy: trust },
        request: {
          principal: cluster.providerArn,
          action: 'sts:AssumeRoleWithWebIdentity',
          resource: principal,
          resourceAccount: s.account,
          context: { [`${cluster.issuer}:sub`]: sub, [`${cluster.issuer}:aud`]: STS_AUDIENCE },
        },
      });
    }
  }
  return rows;
}
