import { z } from 'zod';
import {
  MAX_ROLE_NAME_LENGTH,
  MAX_ROLE_PATH_LENGTH,
  ROLE_NAME_PATTERN,
  ROLE_PATH_PATTERN,
  derivedRoleIndexIgnoringCase,
  maxRoleCreationLimitForName,
  maxSeedNameLength,
  roleNameKey,
} from '../../lambda/domain/iam-names';
import { issuerOfProviderArn } from '../../lambda/domain/trust-policy';
import { partitionOfArn, partitionOfRegion, regionOfEksIssuer } from './aws-partition';
import { ADDON_CATALOG, addonFor, taskProblems } from '../../k8s/kubestash/addon-catalog';
import { configField } from './config-error';
import { databaseDumpSchema, dumpRoleName } from './database-dump-config';
import {
  KMS_KEY_ARN,
  SECRET_ARN,
  namespaceSchema,
  serviceAccountNameSchema,
} from './common-schemas';
import { jobGateSchema } from './job-gate-config';
import { kubernetesConfigSchema } from './kubernetes-config';
import {
  checkNetwork,
  endpointAccessSchema,
  networkSchema,
  securityGroupIdSchema,
} from './network-config';
import type { KubernetesConfig } from './kubernetes-config';

/**
 * The one configuration that both the CDK app and the cdk8s app read, so that
 * the stack and the manifests agree on names, ARNs, namespaces and the bucket.
 *
 * Every message below says what is wrong and how to fix it; `ConfigError` adds
 * the field path and the offending value.
 */

/**
 * EKS's default quota of Pod Identity associations per cluster, from the
 * "EKS Pod Identity considerations" of the EKS user guide
 * (https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html).
 */
export const POD_IDENTITY_ASSOCIATION_QUOTA = 5000;

/**
 * How a seed's ServiceAccounts get AWS credentials: `irsa` (derived roles whose
 * trust policies name them) or `pod-identity` (one EKS Pod Identity
 * association per ServiceAccount to the seed role itself; docs/pod-identity.md).
 */
export const seedModes = ['irsa', 'pod-identity'] as const;
export type SeedMode = (typeof seedModes)[number];

const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]*$/;
const OIDC_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/[^\s/][^\s]*$/;
const MANAGED_POLICY_ARN = /^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/;
const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const S3_PREFIX = /^[A-Za-z0-9!_.*'()/-]*$/;

const clusterSchema = z
  .strictObject({
    name: z
      .string()
      .min(1, 'give the EKS cluster name, as `aws eks list-clusters` shows it')
      .max(100, 'an EKS cluster name has at most 100 characters')
      .regex(
        EKS_CLUSTER_NAME,
        'an EKS cluster name is letters, digits, "-" and "_", starting with a letter or digit',
      ),
    oidcIssuerUrl: z
      .string()
      .regex(
        /^https:\/\/[^\s/:]+(\/[^\s?#]*)?$/,
        'use the issuer URL exactly as `aws eks describe-cluster --query cluster.identity.oidc.issuer` prints it (https://, no port, no query)',
      )
      .transform(withoutTrailingSlashes)
      .optional()
      .describe(
        'a trailing "/" is dropped: tokens carry the issuer without it, and condition keys written <issuer>/:sub would match no token',
      ),
    auditLogs: z
      .boolean()
      .default(false)
      .describe(
        'follow the cluster audit log group /aws/eks/<name>/cluster (needs EKS control-plane audit logging on) so new ServiceAccounts are seen within minutes instead of at the next resync',
      ),
    oidcProviderArn: z
      .string()
      .regex(
        OIDC_PROVIDER_ARN,
        'use the ARN of an existing IAM OIDC provider, e.g. arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE',
      )
      .transform(withoutTrailingSlashes)
      .optional()
      .describe('a trailing "/" is dropped, as for oidcIssuerUrl'),
    endpointAccess: endpointAccessSchema,
    securityGroupId: securityGroupIdSchema
      .optional()
      .describe(
        'the cluster security group; the Lambdas are admitted to it on 443 (needed when the endpoint is private)',
      ),
    podIdentity: z
      .strictObject({
        associationQuota: z
          .number()
          .int('use a whole number of associations')
          .min(1, 'allow at least 1 Pod Identity association')
          .max(
            100_000,
            'EKS allows 5,000 Pod Identity associations per cluster by default; give the quota Service Quotas granted you',
          )
          .default(POD_IDENTITY_ASSOCIATION_QUOTA)
          .describe(
            'how many Pod Identity associations the cluster may hold (all of them, not only ours); past it ServiceAccounts are refused with an Event',
          ),
        installAgent: z
          .boolean()
          .default(false)
          .describe(
            'install the eks-pod-identity-agent add-on on this cluster (an AWS::EKS::Addon); leave false when the agent is already installed or the cluster runs EKS Auto Mode',
          ),
      })
      .prefault({}),
  })
  .superRefine((cluster, ctx) => {
    const given = [cluster.oidcIssuerUrl, cluster.oidcProviderArn].filter((v) => v !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          'set exactly one of oidcIssuerUrl (the stack creates the IAM OIDC provider) or oidcProviderArn (the stack imports an existing one)',
      });
    }
  });

const bucketSchema = z.strictObject({
  name: z
    .string()
    .regex(
      S3_BUCKET_NAME,
      'an S3 bucket name is 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit',
    )
    .refine((n) => !n.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(n), {
      message: 'an S3 bucket name may not contain ".." or look like an IP address',
    }),
  existing: z
    .boolean()
    .default(false)
    .describe('true imports a bucket you already have instead of creating one'),
  prefix: z
    .string()
    .max(512, 'keep the prefix under 512 characters')
    .regex(S3_PREFIX, "a prefix is letters, digits and !_.*'()/- only")
    .refine((p) => !p.startsWith('/') && !p.endsWith('/') && !p.includes('//'), {
      message:
        'write the prefix without leading or trailing "/" and without "//", e.g. ace/production/backups',
    })
    .default(''),
  restrictToPrefix: z
    .boolean()
    .default(false)
    .describe(
      'scope the access policies to objects under the prefix (and ListBucket to the prefix)',
    ),
  encryption: z
    .enum(['s3-managed', 'kms'], {
      error: 'choose "s3-managed" (SSE-S3) or "kms" (SSE-KMS)',
    })
    .default('s3-managed'),
  kmsKeyArn: z
    .string()
    .regex(
      KMS_KEY_ARN,
      'use a KMS key ARN, e.g. arn:aws:kms:us-east-1:111122223333:key/1234abcd-...',
    )
    .optional(),
  accessLogging: z.boolean().default(true),
  accessCheckExpirationDays: z
    .number()
    .int('use a whole number of days')
    .min(1, 'access-check objects live at least 1 day')
    .max(365, 'keep access-check objects at most 365 days')
    .default(1),
});

const accessPolicyPresets = ['kubestash', 'velero', 'database-dump'] as const;
export type AccessPolicyPreset = (typeof accessPolicyPresets)[number];

const seedSchema = z.strictObject({
  name: z
    .string()
    .min(1, 'give the seed role a name, e.g. KubestashRole')
    .regex(ROLE_NAME_PATTERN, 'an IAM role name is letters, digits and +=,.@_- only'),
  derivedRolePath: z
    .string()
    .max(MAX_ROLE_PATH_LENGTH, `an IAM path has at most ${MAX_ROLE_PATH_LENGTH} characters`)
    .regex(ROLE_PATH_PATTERN, 'an IAM path begins and ends with "/", e.g. /kubestash-irsa/')
    .refine((p) => p !== '/', {
      message:
        'derived roles need a dedicated path such as /kubestash-irsa/ so the reconciler can be limited to it',
    })
    .default('/kubestash-irsa/'),
  operator: z
    .strictObject({
      namespace: namespaceSchema.default('kubestash'),
      serviceAccount: serviceAccountNameSchema.default('kubestash-kubestash-operator'),
    })
    .prefault({}),
  accessPolicy: z
    .enum(accessPolicyPresets, { error: `choose one of ${accessPolicyPresets.join(', ')}` })
    .default('kubestash'),
  secretArns: z.array(z.string().regex(SECRET_ARN, 'use a Secrets Manager secret ARN')).default([]),
  roleCreationLimit: z
    .number()
    .int('use a whole number')
    .min(1, 'allow at least 1 derived role')
    .max(1000, 'IAM allows 1000 roles per account by default; ask for a quota increase first')
    .default(100),
  maxSessionDurationSeconds: z
    .number()
    .int('use a whole number of seconds')
    .min(3600, 'IAM accepts 3600 to 43200 seconds')
    .max(43200, 'IAM accepts 3600 to 43200 seconds')
    .default(3600),
  subjectMatch: z
    .enum(['StringEquals', 'StringLike'], { error: 'choose "StringEquals" or "StringLike"' })
    .default('StringLike'),
  clusters: z
    .array(z.string())
    .optional()
    .describe('names of the clusters whose ServiceAccounts may use this seed; all when omitted'),
  namespaces: z
    .array(namespaceSchema)
    .min(1, 'list at least one namespace, or remove the field')
    .optional()
    .describe(
      'the namespaces whose ServiceAccounts may use this seed (each one of allowedNamespaces); required with several seeds, allowedNamespaces when omitted with one',
    ),
  mode: z
    .enum(seedModes, {
      error: `choose "irsa" (derived roles, the default) or "pod-identity" (EKS Pod Identity associations to the seed role)`,
    })
    .default('irsa'),
  associationSettleSeconds: z
    .number()
    .int('use a whole number of seconds')
    .min(0, 'use 0 or more seconds')
    .max(60, 'the reconciler waits within one pass; keep it at most 60 seconds')
    .default(10)
    .describe(
      'pod-identity mode: how long a new association must exist before its Jobs are released (associations are eventually consistent for a few seconds)',
    ),
});

export const projectConfigSchema = z
  .strictObject({
    stackName: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
        'a stack name is letters, digits and "-", starting with a letter',
      )
      .default('KubestashIrsa'),
    account: z
      .string()
      .regex(
        /^\d{12}$/,
        'an AWS account ID is 12 digits, as `aws sts get-caller-identity` prints it',
      ),
    region: z.string().regex(/^[a-z]{2,4}(-[a-z]+)+-\d+$/, 'use a region code such as us-east-1'),
    clusters: z.array(clusterSchema).min(1, 'configure at least one EKS cluster'),
    bucket: bucketSchema,
    seeds: z.array(seedSchema).min(1, 'configure at least one seed role'),
    allowedNamespaces: z
      .array(namespaceSchema)
      .min(1, 'list the namespaces whose backup Jobs may receive a role, e.g. ["demo"]'),
    permissionsBoundaryArn: z
      .string()
      .regex(
        MANAGED_POLICY_ARN,
        'use a managed policy ARN, e.g. arn:aws:iam::111122223333:policy/Boundary',
      )
      .optional(),
    kubernetes: kubernetesConfigSchema.prefault({}),
    databaseDumps: z.array(databaseDumpSchema).default([]),
    jobGate: jobGateSchema.prefault({}),
    network: networkSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const clusterNames = config.clusters.map((c) => c.name);
    reportDuplicates(clusterNames, ['clusters'], 'cluster names must be unique', ctx);
    reportDuplicates(
      clusterNames.map(alphanumeric),
      ['clusters'],
      'cluster names must differ in their letters and digits (they name CloudFormation outputs)',
      ctx,
    );
    reportDuplicates(
      config.seeds.map((s) => s.name),
      ['seeds'],
      'seed role names must be unique ignoring case (IAM role names are unique in the account whatever their case and path); rename one',
      ctx,
      roleNameKey,
    );
    // CloudFormation logical IDs and parameter names drop everything but letters and digits.
    reportDuplicates(
      config.seeds.map((s) => alphanumeric(s.name)),
      ['seeds'],
      'seed role names must differ in their letters and digits (they name CloudFormation parameters)',
      ctx,
    );

    config.seeds.forEach((seed, i) => {
      const room = maxSeedNameLength(seed.roleCreationLimit);
      if (seed.name.length > room) {
        ctx.addIssue({
          code: 'custom',
          path: ['seeds', i, 'name'],
          message: `derived roles are named ${seed.name}-0 … ${seed.name}-${seed.roleCreationLimit - 1} and IAM allows ${MAX_ROLE_NAME_LENGTH} characters; shorten the name to at most ${room} characters or lower roleCreationLimit to at most ${maxRoleCreationLimitForName(seed.name)}`,
        });
      }
      if (seed.accessPolicy === 'database-dump' && seed.secretArns.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['seeds', i, 'secretArns'],
          message:
            'the database-dump preset reads database credentials: list their Secrets Manager secret ARNs',
        });
      }
      if (seed.accessPolicy !== 'database-dump' && seed.secretArns.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['seeds', i, 'secretArns'],
          message: `secretArns only apply to the database-dump preset; remove them or set accessPolicy to "database-dump"`,
        });
      }
      checkSeedNamespaces(config, seed, i, ctx);
      (seed.clusters ?? []).forEach((name, j) => {
        reportUnknown(name, clusterNames, 'cluster', ['seeds', i, 'clusters', j], ctx);
      });
    });

    if (config.bucket.kmsKeyArn !== undefined && config.bucket.encryption !== 'kms') {
      ctx.addIssue({
        code: 'custom',
        path: ['bucket', 'kmsKeyArn'],
        message:
          'a KMS key only applies with encryption "kms"; set encryption to "kms" or remove kmsKeyArn',
      });
    }
    if (
      config.bucket.existing &&
      config.bucket.encryption === 'kms' &&
      config.bucket.kmsKeyArn === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['bucket', 'kmsKeyArn'],
        message:
          'an existing KMS-encrypted bucket needs its key: set kmsKeyArn so the access policy may use it',
      });
    }
    const joined = config.allowedNamespaces.join(' ');
    if (joined.length > 256) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowedNamespaces'],
        message:
          'the allowed namespaces are recorded in an IAM tag of at most 256 characters; list fewer or shorter namespaces',
      });
    }
    reportDuplicates(
      config.allowedNamespaces,
      ['allowedNamespaces'],
      'list each namespace once',
      ctx,
    );
    checkKubernetes(config, ctx);
    checkDatabaseDumps(config, ctx);
    checkPartitions(config, ctx);
    checkRoleNameClashes(config, ctx);
    checkNetwork(config, ctx);
    checkPodIdentitySeeds(config, ctx);
  });

/** The configuration as written (defaults optional). */
export type ProjectConfigInput = z.input<typeof projectConfigSchema>;
/** The configuration after validation, with every default filled in. */
export type ProjectConfig = z.output<typeof projectConfigSchema>;
export type ClusterConfig = ProjectConfig['clusters'][number];
export type SeedConfig = ProjectConfig['seeds'][number];
export type BucketConfig = ProjectConfig['bucket'];
export type { NetworkConfig } from './network-config';

/** Letters and digits only: what CloudFormation accepts in logical IDs and parameter names. */
export function alphanumeric(value: string): string {
  return value.replace(/[^A-Za-z0-9]/g, '');
}

/** The clusters whose ServiceAccounts a seed serves. */
export function clustersOfSeed(config: ProjectConfig, seed: SeedConfig): ClusterConfig[] {
  const names = seed.clusters;
  return names === undefined
    ? config.clusters
    : config.clusters.filter((c) => names.includes(c.name));
}

/**
 * The namespaces whose ServiceAccounts may use a seed: its own list, or with a
 * single seed every allowed namespace (the config refuses several seeds
 * without their own lists, so one team cannot pick another team's seed).
 */
export function namespacesOfSeed(config: ProjectConfig, seed: SeedConfig): string[] {
  return seed.namespaces ?? config.allowedNamespaces;
}

/** The seeds in pod-identity mode. */
export function podIdentitySeeds(config: ProjectConfig): SeedConfig[] {
  return config.seeds.filter((s) => s.mode === 'pod-identity');
}

/** The seeds whose ServiceAccounts a cluster may use. */
export function seedsOfCluster(config: ProjectConfig, clusterName: string): SeedConfig[] {
  return config.seeds.filter((s) => clustersOfSeed(config, s).some((c) => c.name === clusterName));
}

function checkSeedNamespaces(
  config: ProjectConfig,
  seed: SeedConfig,
  i: number,
  ctx: z.RefinementCtx,
): void {
  const path = ['seeds', i, 'namespaces'];
  if (seed.namespaces === undefined) {
    if (config.seeds.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `with several seeds each one names the namespaces whose ServiceAccounts may use it, or any team could pick any seed; add e.g. "namespaces": ["${config.allowedNamespaces[0]}"] to seed ${seed.name}`,
      });
    }
    return;
  }
  seed.namespaces.forEach((namespace, j) => {
    if (!config.allowedNamespaces.includes(namespace)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, j],
        message: `"${namespace}" is not in allowedNamespaces (${config.allowedNamespaces.join(', ')}), where the reconciler and the job gate work; add it there too`,
      });
    }
  });
  reportDuplicates(seed.namespaces, path, 'list each namespace once', ctx);
  const tagLength = seed.namespaces.join(' ').length;
  if (tagLength > 256) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: `a seed's namespaces are recorded in an IAM tag of at most 256 characters, and these take ${tagLength}; list fewer or shorter namespaces, or split the team across two seeds`,
    });
  }
}

/**
 * In pod-identity mode KubeStash names no seed on the session ServiceAccounts
 * (docs/pod-identity.md, "Which ServiceAccounts"), so a namespace of a
 * cluster may be served by one pod-identity seed at most: with two, the
 * reconciler could not tell whose a ServiceAccount is.
 */
function checkPodIdentitySeeds(config: ProjectConfig, ctx: z.RefinementCtx): void {
  const owner = new Map<string, string>();
  config.seeds.forEach((seed, i) => {
    if (seed.mode !== 'pod-identity') return;
    for (const cluster of clustersOfSeed(config, seed)) {
      for (const namespace of namespacesOfSeed(config, seed)) {
        const first = owner.get(`${cluster.name}/${namespace}`);
        if (first === undefined) {
          owner.set(`${cluster.name}/${namespace}`, seed.name);
          continue;
        }
        ctx.addIssue({
          code: 'custom',
          path: ['seeds', i, 'mode'],
          message: `seed ${first} already serves namespace ${namespace} of cluster ${cluster.name} in pod-identity mode, and KubeStash's ServiceAccounts name no seed in that mode, so the reconciler could not tell whose they are; give the seeds different seeds.N.namespaces or clusters, or use mode "irsa" for one of them`,
        });
        return;
      }
    }
  });
}

function checkKubernetes(config: ProjectConfig, ctx: z.RefinementCtx): void {
  const k = config.kubernetes;
  const clusterNames = config.clusters.map((c) => c.name);
  reportUnknown(k.cluster, clusterNames, 'cluster', ['kubernetes', 'cluster'], ctx);
  reportUnknown(
    k.seed,
    config.seeds.map((s) => s.name),
    'seed',
    ['kubernetes', 'seed'],
    ctx,
  );
  k.backups.forEach((backup, i) => {
    const path = ['kubernetes', 'backups', i];
    if (!config.allowedNamespaces.includes(backup.namespace)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'namespace'],
        message: `the reconciler grants roles only in allowedNamespaces (${config.allowedNamespaces.join(', ')}); add "${backup.namespace}" there or move the backup`,
      });
    }
    checkAddonTask(backup, 'backup', path, ctx);
  });
  reportDuplicates(
    k.backups.map((b) => `${b.namespace}/${b.name}`),
    ['kubernetes', 'backups'],
    'backup names must be unique within a namespace',
    ctx,
  );
  k.restores.forEach((restore, i) => {
    const path = ['kubernetes', 'restores', i];
    const backup = k.backups.find(
      (b) => b.name === restore.from && b.namespace === restore.namespace,
    );
    if (backup === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'from'],
        message: `no backup "${restore.from}" in namespace ${restore.namespace}; name one of kubernetes.backups (${k.backups.map((b) => `${b.namespace}/${b.name}`).join(', ') || 'none configured'})`,
      });
      return;
    }
    checkAddonTask(
      { ...restore, target: backup.target, addon: backup.addon },
      'restore',
      path,
      ctx,
    );
  });
  reportDuplicates(
    k.restores.map((r) => `${r.namespace}/${r.name}`),
    ['kubernetes', 'restores'],
    'restore names must be unique within a namespace',
    ctx,
  );
}

/** Task and parameter names are checked against the addon catalog, so a typo fails at synth time. */
function checkAddonTask(
  item: Pick<KubernetesConfig['backups'][number], 'target' | 'addon' | 'task' | 'params'>,
  direction: 'backup' | 'restore',
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const addon = addonFor(item.target, item.addon);
  if (addon === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: item.addon === undefined ? [...path, 'target', 'kind'] : [...path, 'addon'],
      message:
        item.addon === undefined
          ? `no known addon backs up kind ${item.target.kind}; use one of ${ADDON_CATALOG.flatMap((a) => a.targetKinds).join(', ')}, or name the addon`
          : `unknown addon "${item.addon}"; use one of ${ADDON_CATALOG.map((a) => a.name).join(', ')}`,
    });
    return;
  }
  if (!addon.targetKinds.includes(item.target.kind)) {
    // A restore names its backup's addon: the mismatch is reported once, on the backup.
    if (direction === 'backup') {
      const fitting = addonFor(item.target, undefined);
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'addon'],
        message: `it backs up ${addon.targetKinds.join(', ')}, not ${item.target.kind}; ${fitting === undefined ? 'choose an addon for that kind' : `remove addon to use ${fitting.name}`}`,
      });
    }
    return;
  }
  for (const problem of taskProblems(addon, direction, item.task, item.params)) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, ...problem.field.split('.')],
      message: problem.message,
    });
  }
}

function checkDatabaseDumps(config: ProjectConfig, ctx: z.RefinementCtx): void {
  const clusterNames = config.clusters.map((c) => c.name);
  config.databaseDumps.forEach((dump, i) => {
    const path = ['databaseDumps', i];
    reportUnknown(dump.cluster, clusterNames, 'cluster', [...path, 'cluster'], ctx);
    if (dump.cluster === undefined && clusterNames.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'cluster'],
        message: `several clusters are configured: say which one runs this dump (${clusterNames.join(', ')})`,
      });
    }
    const roleName = dumpRoleName(config.stackName, dump);
    if (roleName.length > MAX_ROLE_NAME_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'roleName'],
        message: `the role name "${roleName}" is longer than IAM's ${MAX_ROLE_NAME_LENGTH} characters; set roleName explicitly`,
      });
    }
  });
  reportDuplicates(
    config.databaseDumps.map((d) => d.name),
    ['databaseDumps'],
    'database dump names must be unique',
    ctx,
  );
}

/** A reference to a cluster or seed the config does not define (nothing to report when unset). */
function reportUnknown(
  name: string | undefined,
  known: readonly string[],
  what: string,
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  if (name === undefined || known.includes(name)) return;
  ctx.addIssue({
    code: 'custom',
    path,
    message: `no ${what} is named "${name}"; use one of ${known.join(', ')}`,
  });
}

/** Reports every value whose key (by default the value itself) an earlier value already had. */
function reportDuplicates(
  values: readonly string[],
  path: (string | number)[],
  message: string,
  ctx: z.RefinementCtx,
  keyOf: (value: string) => string = (v) => v,
): void {
  const seen = new Map<string, string>();
  values.forEach((value, i) => {
    const first = seen.get(keyOf(value));
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, i],
        message: `${message}; "${value}" appears twice${first === value ? '' : ` (as "${first}" and "${value}")`}`,
      });
    } else {
      seen.set(keyOf(value), value);
    }
  });
}

function withoutTrailingSlashes(value: string): string {
  return value.replace(/\/+$/, '');
}

/**
 * Every ARN the stack writes into a policy must be in the region's partition:
 * each partition has its own IAM and STS, which never match an ARN of another
 * (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html).
 * An EKS issuer names its region, so it must be in the partition too.
 */
function checkPartitions(config: ProjectConfig, ctx: z.RefinementCtx): void {
  const partition = partitionOfRegion(config.region);
  const arns: { path: (string | number)[]; arn: string | undefined }[] = [
    ...config.clusters.map((c, i) => ({
      path: ['clusters', i, 'oidcProviderArn'],
      arn: c.oidcProviderArn,
    })),
    { path: ['bucket', 'kmsKeyArn'], arn: config.bucket.kmsKeyArn },
    { path: ['permissionsBoundaryArn'], arn: config.permissionsBoundaryArn },
    ...config.seeds.flatMap((s, i) =>
      s.secretArns.map((arn, j) => ({ path: ['seeds', i, 'secretArns', j], arn })),
    ),
    ...config.databaseDumps.flatMap((d, i) => [
      { path: ['databaseDumps', i, 'secretArn'], arn: d.secretArn },
      { path: ['databaseDumps', i, 'secretKmsKeyArn'], arn: d.secretKmsKeyArn },
    ]),
  ];
  for (const { path, arn } of arns) {
    const of = arn === undefined ? undefined : partitionOfArn(arn);
    if (arn === undefined || of === undefined || of === partition) continue;
    ctx.addIssue({
      code: 'custom',
      path,
      message: `this ARN is in partition "${of}", but region ${config.region} is in partition "${partition}", whose IAM never matches it; use the resource's ARN in ${partition} (arn:${partition}:${arn.split(':').slice(2).join(':')}), or set region to the region that resource lives in`,
    });
  }
  config.clusters.forEach((c, i) => {
    const issuer = c.oidcIssuerUrl ?? (c.oidcProviderArn && issuerOfProviderArn(c.oidcProviderArn));
    const issuerRegion = issuer ? regionOfEksIssuer(issuer) : undefined;
    if (issuerRegion === undefined || partitionOfRegion(issuerRegion) === partition) return;
    ctx.addIssue({
      code: 'custom',
      path: ['clusters', i, c.oidcIssuerUrl === undefined ? 'oidcProviderArn' : 'oidcIssuerUrl'],
      message: `the issuer belongs to an EKS cluster in ${issuerRegion} (partition "${partitionOfRegion(issuerRegion)}"), but region ${config.region} is in partition "${partition}": IAM in one partition cannot trust a cluster of another; deploy the stack in the cluster's partition (set region), or remove the cluster`,
    });
  });
}

/**
 * The names this config gives IAM roles other than derived ones: the seeds
 * and the database-dump roles, with the field each comes from.
 */
function fixedRoleNames(config: ProjectConfig): { name: string; path: (string | number)[] }[] {
  return [
    ...config.seeds.map((s, i) => ({ name: s.name, path: ['seeds', i, 'name'] })),
    ...config.databaseDumps.map((d, i) => ({
      name: dumpRoleName(config.stackName, d),
      path: ['databaseDumps', i, d.roleName === undefined ? 'name' : 'roleName'],
    })),
  ];
}

/**
 * The largest role-creation limit a seed may have in this config (and the
 * MaxValue of its CloudFormation parameter): every derived name
 * `<seed>-0 … <seed>-<limit-1>` must fit 64 characters and must not be the
 * name, in any case, of another role the config names; and 1000, IAM's
 * default "Roles per account" quota.
 * Source: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
 */
export function roleCreationLimitCeiling(config: ProjectConfig, seed: SeedConfig): number {
  let ceiling = Math.min(ACCOUNT_ROLE_QUOTA, maxRoleCreationLimitForName(seed.name));
  for (const other of fixedRoleNames(config)) {
    const index = derivedRoleIndexIgnoringCase(seed.name, other.name);
    if (index !== undefined) ceiling = Math.min(ceiling, index);
  }
  return ceiling;
}

/** IAM's default "Roles per account" quota (L-FE177D64). */
const ACCOUNT_ROLE_QUOTA = 1000;

/**
 * Role names are unique in the account ignoring case and path
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html):
 * a seed or dump role named like another one, or like a derived role
 * `<seed>-<i>` within the seed's limit, would make CloudFormation or the
 * reconciler fail with EntityAlreadyExists.
 */
function checkRoleNameClashes(config: ProjectConfig, ctx: z.RefinementCtx): void {
  const fixed = fixedRoleNames(config);
  const seen = new Map<string, string>();
  for (const { name, path } of fixed) {
    const first = seen.get(roleNameKey(name));
    // Two seeds with one name are reported with the seeds; a dump role clashing is reported here.
    if (first !== undefined && path[0] === 'databaseDumps') {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `the role name "${name}" is already taken by ${first} (IAM role names are unique in the account ignoring case); give this dump its own roleName`,
      });
    }
    if (first === undefined) seen.set(roleNameKey(name), configField(path));
  }
  config.seeds.forEach((seed, i) => {
    for (const other of fixed) {
      if (other.path[0] === 'seeds' && other.path[1] === i) continue;
      const index = derivedRoleIndexIgnoringCase(seed.name, other.name);
      if (index === undefined || index >= seed.roleCreationLimit) continue;
      ctx.addIssue({
        code: 'custom',
        path: other.path,
        message: `"${other.name}" is also the name of derived role ${index} of seed ${seed.name} (${seed.name}-0 … ${seed.name}-${seed.roleCreationLimit - 1}), and IAM role names are unique in the account ignoring case and path; rename it, or lower seeds.${i}.roleCreationLimit to at most ${index}`,
      });
    }
  });
}
