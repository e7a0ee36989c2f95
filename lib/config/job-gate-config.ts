import { z } from 'zod';
import { pinnedImageSchema } from './common-schemas';

/**
 * The job gate (a mutating admission webhook served by a Lambda Function URL)
 * and how the reconciler releases the Jobs it holds. The CDK stack reads the
 * Lambda and release settings; the cdk8s app reads failurePolicy and
 * timeoutSeconds for the MutatingWebhookConfiguration.
 */
export const jobGateSchema = z.strictObject({
  enabled: z.boolean().default(true),
  observeOnly: z
    .boolean()
    .default(false)
    .describe(
      'answer every Job without holding it (log and hint only): for the overlap with aws-credential-manager, whose own webhook still holds the Jobs (docs/migration.md)',
    ),
  accessCheckImage: pinnedImageSchema(
    'give an image with the AWS CLI v2, pinned by tag or digest, e.g. amazon/aws-cli:2.27.50',
  ).default('amazon/aws-cli:2.27.50'),
  accessCheckAttempts: z
    .number()
    .int('use a whole number')
    .min(1, 'try at least once')
    .max(100, 'at most 100 attempts')
    .default(12),
  accessCheckDelaySeconds: z
    .number()
    .int('use whole seconds')
    .min(1, 'wait at least 1 second between attempts')
    .max(300, 'wait at most 300 seconds between attempts')
    .default(5),
  failurePolicy: z
    .enum(['Ignore', 'Fail'], {
      error:
        'choose "Ignore" (if the gate is unreachable, Jobs start ungated) or "Fail" (they are refused until it answers)',
    })
    .default('Ignore'),
  timeoutSeconds: z
    .number()
    .int()
    .min(1, 'the API server accepts 1 to 30 seconds')
    .max(30, 'the API server accepts 1 to 30 seconds')
    .default(5),
  reservedConcurrency: z
    .number()
    .int()
    .min(1, 'reserve at least 1 concurrent execution')
    .max(100, 'keep at most 100: the gate answers in milliseconds')
    .default(10)
    .describe('caps what an abuser of the public URL can cost'),
  stuckAfterMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60, 'at most a day')
    .default(30)
    .describe('a Job still held after this long is marked stuck, with the reason'),
  proveAccess: z
    .boolean()
    .default(true)
    .describe(
      'before releasing, request a token for the ServiceAccount and call AssumeRoleWithWebIdentity until IAM accepts it',
    ),
  proofAttempts: z.number().int().min(1).max(30).default(10),
  proofDelaySeconds: z.number().int().min(1).max(10).default(3),
});

export type JobGateConfig = z.output<typeof jobGateSchema>;
