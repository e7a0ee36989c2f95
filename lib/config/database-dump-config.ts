import { z } from 'zod';
import {
  DNS_LABEL,
  KMS_KEY_ARN,
  SECRET_ARN,
  namespaceSchema,
  pinnedImageSchema,
} from './common-schemas';
import { cronScheduleSchema } from './cron-schedule';
import { ROLE_NAME_PATTERN, MAX_ROLE_NAME_LENGTH } from '../../lambda/domain/iam-names';

/**
 * A scheduled database dump outside KubeStash (seed 001): a CronJob whose
 * ServiceAccount has its own IAM role trusting exactly that one subject. Both
 * apps read it: the CDK stack creates the role, the cdk8s app the CronJob.
 */

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

const quantity = z.string().regex(QUANTITY, 'write a Kubernetes quantity such as 100m or 512Mi');
const image = pinnedImageSchema(
  'give an image with a tag or digest, e.g. postgres:17-alpine',
  'pin a version instead of :latest so every run dumps with the same client',
);

export const databaseDumpSchema = z.strictObject({
  name: z
    .string()
    .max(40, 'keep the dump name at most 40 characters (it names the CronJob and its Jobs)')
    .regex(DNS_LABEL, 'use lowercase letters, digits and "-"'),
  cluster: z.string().optional().describe('defaults to the only configured cluster'),
  namespace: namespaceSchema.default('database-backup'),
  serviceAccount: z
    .string()
    .max(253)
    .regex(DNS_LABEL, 'use lowercase letters, digits and "-"')
    .optional()
    .describe('defaults to <name>-dump'),
  roleName: z
    .string()
    .max(MAX_ROLE_NAME_LENGTH, `an IAM role name has at most ${MAX_ROLE_NAME_LENGTH} characters`)
    .regex(ROLE_NAME_PATTERN, 'an IAM role name is letters, digits and +=,.@_- only')
    .optional()
    .describe(
      'defaults to <stackName>-dump-<name>; fixed so the manifests know the ARN before deploy',
    ),
  secretArn: z
    .string()
    .regex(
      SECRET_ARN,
      'use the ARN of the Secrets Manager secret holding username, password, host and port',
    ),
  secretKmsKeyArn: z
    .string()
    .regex(KMS_KEY_ARN, 'use a KMS key ARN')
    .optional()
    .describe('the customer managed key the secret is encrypted with, if any'),
  database: z.string().min(1, 'name the database to dump').max(63),
  engine: z.enum(['postgres'], { error: 'only "postgres" dumps are built in' }).default('postgres'),
  schedule: cronScheduleSchema.default('13 */2 * * *'),
  subPrefix: z
    .string()
    .regex(
      /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/,
      'write a folder such as database-dumps/app',
    )
    .optional()
    .describe('folder under bucket.prefix; defaults to database-dumps/<name>'),
  dumpImage: image.default('postgres:17-alpine'),
  uploadImage: image.default('amazon/aws-cli:2.27.50'),
  resources: z
    .strictObject({
      requests: z
        .strictObject({ cpu: quantity.default('50m'), memory: quantity.default('64Mi') })
        .prefault({}),
      limits: z
        .strictObject({ cpu: quantity.default('100m'), memory: quantity.default('512Mi') })
        .prefault({}),
    })
    .prefault({}),
});

export type DatabaseDumpConfig = z.output<typeof databaseDumpSchema>;

/** The ServiceAccount a dump runs as. */
export function dumpServiceAccountName(dump: DatabaseDumpConfig): string {
  return dump.serviceAccount ?? `${dump.name}-dump`;
}

/** The IAM role a dump's ServiceAccount assumes. */
export function dumpRoleName(stackName: string, dump: DatabaseDumpConfig): string {
  return dump.roleName ?? `${stackName}-dump-${dump.name}`;
}

/** The key prefix under the bucket's prefix that a dump writes to. */
export function dumpSubPrefix(dump: DatabaseDumpConfig): string {
  return dump.subPrefix ?? `database-dumps/${dump.name}`;
}
