import { z } from 'zod';
import { DNS_LABEL, DNS_SUBDOMAIN, namespaceSchema } from './common-schemas';
import { cronScheduleSchema } from './cron-schedule';

/**
 * The Kubernetes side of the configuration: what the cdk8s app synthesizes.
 * The CDK stack reads only `reconcilerGroup` and `gateGroup` (its EKS access
 * entries map the reconciler's and the gate's IAM roles to those groups). Names and namespaces are
 * checked here; how they fit the rest of the configuration (allowed
 * namespaces, clusters, seeds, addon tasks) is checked where both are known,
 * in `project-config.ts` and the cdk8s app.
 */

// KubeStash's RetentionPeriod: whole numbers of years, months, weeks, days, hours, minutes.
const RETENTION_PERIOD = /^([1-9]\d*(y|mo|w|d|h|m))+$/;
// A Go duration as KubeStash's retryConfig.delay reads it.
const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const S3_SUBPREFIX = /^[A-Za-z0-9!_.*'()/-]*$/;

const objectName = z
  .string()
  .max(253, 'a Kubernetes object name has at most 253 characters')
  .regex(
    DNS_SUBDOMAIN,
    'a Kubernetes object name is lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
  );
// Names that become labels or parts of generated names (KubeStash names Jobs after them).
const shortName = z
  .string()
  .max(63, 'keep this name at most 63 characters: KubeStash builds Job and label names from it')
  .regex(
    DNS_LABEL,
    'use lowercase letters, digits and "-", starting and ending with a letter or digit',
  );

const usableFrom = z
  .enum(['Same', 'AllowedNamespaces', 'All'], {
    error:
      'choose "Same" (only its own namespace), "AllowedNamespaces" (the namespaces in allowedNamespaces) or "All"',
  })
  .default('AllowedNamespaces')
  .describe('which namespaces may use the object (KubeStash usagePolicy.allowedNamespaces)');

const params = z
  .record(z.string(), z.string())
  .default({})
  .describe('task parameters, as the addon names them; values are strings as KubeStash reads them');

const storageSchema = z.strictObject({
  name: objectName.default('s3-storage'),
  namespace: namespaceSchema
    .optional()
    .describe('where the BackupStorage lives; defaults to the first of allowedNamespaces'),
  subPrefix: z
    .string()
    .max(256, 'keep the sub-prefix under 256 characters')
    .regex(S3_SUBPREFIX, "a prefix is letters, digits and !_.*'()/- only")
    .refine((p) => !p.startsWith('/') && !p.endsWith('/') && !p.includes('//'), {
      message: 'write the sub-prefix without leading or trailing "/" and without "//"',
    })
    .optional()
    .describe(
      'folder under bucket.prefix for this cluster’s repositories; defaults to the cluster name so clusters never share a repository',
    ),
  default: z.boolean().default(true),
  deletionPolicy: z
    .enum(['Delete', 'WipeOut'], {
      error:
        'choose "Delete" (keep the data in S3 when the BackupStorage is deleted) or "WipeOut" (delete it too)',
    })
    .default('Delete'),
  usableFrom,
});

// KubeStash's counts are int32 in its CRD; a larger number is refused by the API server.
const snapshotCount = z
  .number()
  .int('use a whole number')
  .max(2_147_483_647, 'KubeStash counts snapshots in 32 bits; use a smaller number');

const retentionSchema = z.strictObject({
  name: objectName.default('backup-retention'),
  namespace: namespaceSchema.optional().describe('defaults to the BackupStorage namespace'),
  default: z.boolean().default(true),
  successfulSnapshots: z
    .strictObject({
      last: snapshotCount.min(1, 'keep at least 1 snapshot').default(5),
      hourly: snapshotCount.min(1, 'keep at least 1 snapshot').optional(),
      daily: snapshotCount.min(1, 'keep at least 1 snapshot').optional(),
      weekly: snapshotCount.min(1, 'keep at least 1 snapshot').optional(),
      monthly: snapshotCount.min(1, 'keep at least 1 snapshot').optional(),
      yearly: snapshotCount.min(1, 'keep at least 1 snapshot').optional(),
    })
    .prefault({}),
  failedSnapshots: z
    .strictObject({
      last: snapshotCount.min(0, 'use 0 or more').default(2),
    })
    .prefault({}),
  maxRetentionPeriod: z
    .string()
    .regex(
      RETENTION_PERIOD,
      'write a period such as "30d", "2mo", "1y" or "1y6mo" (units y, mo, w, d, h, m)',
    )
    .default('2mo'),
  usableFrom,
});

const encryptionSecretSchema = z.strictObject({
  name: objectName.default('encrypt-secret'),
  namespace: namespaceSchema.optional().describe('defaults to the BackupStorage namespace'),
  fromEnvironment: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'name an environment variable, e.g. RESTIC_PASSWORD')
    .optional()
    .describe(
      'write the Secret into the manifests from this environment variable at synth time; off by default because the password then sits in dist/',
    ),
});

const targetSchema = z.strictObject({
  kind: z
    .string()
    .regex(
      /^[A-Z][A-Za-z0-9]*$/,
      'a kind is written as Kubernetes does, e.g. DaemonSet or Postgres',
    ),
  name: objectName,
  apiGroup: z
    .string()
    .optional()
    .describe('defaults to the group of the addon that backs up this kind (apps, kubedb.com)'),
});

const backupSchema = z.strictObject({
  name: shortName,
  namespace: namespaceSchema,
  target: targetSchema,
  schedule: cronScheduleSchema,
  sessionName: shortName.default('scheduled'),
  repository: shortName.optional().describe('defaults to <name>-repo'),
  directory: z
    .string()
    .regex(/^\/[A-Za-z0-9!_.*'()/-]*$/, 'a directory starts with "/", e.g. /demo/ks-demo')
    .optional()
    .describe(
      'folder of the repository inside the BackupStorage; defaults to /<namespace>/<target name>',
    ),
  addon: objectName.optional().describe('defaults to the addon that backs up the target kind'),
  task: objectName.default('logical-backup'),
  params,
  retry: z
    .strictObject({
      maxRetry: z.number().int().min(0).max(10, 'retry at most 10 times').default(2),
      delay: z.string().regex(GO_DURATION, 'write a duration such as 1m or 30s').default('1m'),
    })
    .prefault({}),
  backoffLimit: z.number().int().min(0).max(10).default(1),
  paused: z.boolean().default(false),
});

const restoreSchema = z.strictObject({
  name: shortName,
  from: shortName.describe(
    'the backup (by name, in the same namespace) whose repository to restore',
  ),
  namespace: namespaceSchema,
  snapshot: z
    .string()
    .min(1)
    .default('latest')
    .describe('"latest" or a Snapshot name from `kubectl get snapshots`'),
  task: objectName.default('logical-backup-restore'),
  params,
});

const demoWorkloadSchema = z.strictObject({
  enabled: z.boolean().default(false),
  namespace: namespaceSchema.default('demo'),
  name: objectName.default('ks-demo'),
});

export const kubernetesConfigSchema = z.strictObject({
  reconcilerGroup: z
    .string()
    .regex(
      /^[a-z0-9]([-a-z0-9:.]*[a-z0-9])?$/,
      'a Kubernetes group name is lowercase letters, digits, "-", ":" and "."',
    )
    .default('kubestash-irsa:reconciler'),
  gateGroup: z
    .string()
    .regex(
      /^[a-z0-9]([-a-z0-9:.]*[a-z0-9])?$/,
      'a Kubernetes group name is lowercase letters, digits, "-", ":" and "."',
    )
    .default('kubestash-irsa:job-gate')
    .describe(
      "the Kubernetes group the job gate's EKS access entries map its role to; bound to get serviceaccounts in the allowed namespaces",
    ),
  cluster: z
    .string()
    .optional()
    .describe(
      'the cluster the manifests are for; needed only when several clusters are configured',
    ),
  seed: z
    .string()
    .optional()
    .describe(
      'the seed role the KubeStash operator carries; needed only when several seeds serve the cluster',
    ),
  storage: storageSchema.prefault({}),
  retention: retentionSchema.prefault({}),
  encryptionSecret: encryptionSecretSchema.prefault({}),
  backups: z.array(backupSchema).default([]),
  restores: z.array(restoreSchema).default([]),
  demoWorkload: demoWorkloadSchema.prefault({}),
});

export type KubernetesConfig = z.output<typeof kubernetesConfigSchema>;
export type BackupConfig = KubernetesConfig['backups'][number];
export type RestoreConfig = KubernetesConfig['restores'][number];
export type UsableFrom = z.output<typeof usableFrom>;
