import { z } from 'zod';
import { roleNameKey } from '../lambda/domain/iam-names';
import type { PlanInput } from '../lambda/domain/plan-types';
import { validate } from '../lib/config/config-error';

/**
 * The state file of `npm run plan`: the planner's input as JSON. Documented
 * field by field in examples/plan/README.md.
 */
const name = z.string().min(1, 'must not be empty');

/** Tokens carry the issuer without a trailing "/"; keys written `…/<ID>/:sub` would match none. */
const withoutTrailingSlashes = (value: string): string => value.replace(/\/+$/, '');

const cluster = z.strictObject({
  name,
  providerArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/\S+$/,
      'an IAM OIDC provider ARN, arn:aws:iam::<account>:oidc-provider/<issuer>',
    )
    .transform(withoutTrailingSlashes),
  issuer: z
    .string()
    .min(1, 'the provider URL without https://, e.g. oidc.eks.us-east-1.amazonaws.com/id/ABC')
    .transform((issuer) => withoutTrailingSlashes(issuer.replace(/^https:\/\//, ''))),
});

const seed = z.strictObject({
  name,
  arn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/,
      'the seed role ARN, arn:aws:iam::<account>:role/<name>',
    ),
  path: z.string().regex(/^\/(?:[\x21-\x7E]*\/)?$/, 'an IAM path that begins and ends with "/"'),
  clusters: z.array(cluster).min(1, 'list at least one cluster'),
  conditionOperator: z
    .enum(['StringLike', 'StringEquals'], { error: 'StringLike or StringEquals' })
    .default('StringLike'),
  roleCreationLimit: z.number().int('a whole number').min(1, 'at least 1').default(100),
  compactNamespaces: z.array(name).optional(),
});

const role = z.strictObject({
  name,
  path: z.string().startsWith('/', 'an IAM path starting with "/"'),
  trustPolicy: z
    .string()
    .min(1, 'the AssumeRolePolicyDocument as IAM returns it (URL-encoded or plain JSON)'),
  tags: z.record(z.string(), z.string()).default({}),
  createDate: z.string().default(''),
});

const serviceAccount = z.strictObject({
  cluster: name,
  namespace: name,
  name,
  seedRole: z.string().min(1, 'the go.klusters.dev/seed-role-name annotation: the seed ARN'),
  roleArn: z.string().optional(),
});

export const planStateSchema = z
  .strictObject({
    seeds: z.array(seed).min(1, 'list at least one seed'),
    allowedNamespaces: z.array(name),
    quota: z.number().int().min(1, 'a positive number of characters').optional(),
    emptyRoleGracePeriodSeconds: z.number().int().min(0).default(3600),
    now: z.iso
      .datetime({ offset: true, error: 'an ISO 8601 time such as 2026-11-22T12:00:00Z' })
      .default(() => new Date().toISOString()),
    roles: z.array(role).default([]),
    serviceAccounts: z.array(serviceAccount).default([]),
  })
  .superRefine((state, ctx) => {
    // One entry per thing: the planner would otherwise plan one role twice (the
    // second write, trusting nobody, winning) or merge two seeds' settings.
    state.seeds.forEach((seed, i) => {
      reportDuplicates(ctx, ['seeds', i, 'clusters'], seed.clusters, (c) => c.name, 'cluster name');
      reportDuplicates(
        ctx,
        ['seeds', i, 'clusters'],
        seed.clusters,
        (c) => c.providerArn,
        'OIDC provider',
      );
    });
    // IAM role names are unique in the account ignoring case (reference_identifiers.html).
    reportDuplicates(
      ctx,
      ['seeds'],
      state.seeds,
      (s) => roleNameKey(s.name),
      'seed name (ignoring case, as IAM does)',
    );
    reportDuplicates(ctx, ['seeds'], state.seeds, (s) => s.arn, 'seed ARN');
    reportDuplicates(
      ctx,
      ['roles'],
      state.roles,
      (r) => roleNameKey(r.name),
      'role name (ignoring case, as IAM does)',
    );
    reportDuplicates(
      ctx,
      ['serviceAccounts'],
      state.serviceAccounts,
      (sa) => `${sa.cluster}/${sa.namespace}/${sa.name}`,
      'ServiceAccount (cluster, namespace and name)',
    );
  });

/** Reports the second and later entries whose key an earlier entry already had, pointing at the first. */
function reportDuplicates<T>(
  ctx: z.RefinementCtx,
  path: (string | number)[],
  items: readonly T[],
  keyOf: (item: T) => string,
  what: string,
): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    const at = first.get(key);
    if (at === undefined) {
      first.set(key, i);
      return;
    }
    ctx.addIssue({
      code: 'custom',
      path: [...path, i],
      message: `the same ${what} as ${jsonPath([...path, at])}; list each once (merge the two entries or remove one)`,
    });
  });
}

/**
 * Validates a parsed state file. Each problem names the JSON path, the value
 * found there and the fix, in the wording the configuration uses (a missing
 * field says what to add, an unknown key names the closest known one); the
 * caller names the file in its header.
 */
export function parsePlanState(json: unknown): { state: PlanInput } | { problems: string[] } {
  const result = validate(planStateSchema, json);
  if ('data' in result) return { state: result.data };
  return {
    problems: result.issues.map((issue) => {
      const value = valueAt(json, issue.path);
      return `${jsonPath(issue.path)}: ${issue.message}${value === undefined ? ' (missing)' : ` (got ${JSON.stringify(value)?.slice(0, 80)})`}`;
    }),
  };
}

/** `$.seeds[0].clusters[1]`: the path as jq and JSONPath write it. */
function jsonPath(path: readonly PropertyKey[]): string {
  return `$${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let current = json;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
