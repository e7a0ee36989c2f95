import * as z from 'zod/mini';
import { maxRoleCreationLimitForName } from '../domain/iam-names';
import {
  ALLOWED_NAMESPACES_TAG,
  DERIVED_ROLE_PATH_TAG,
  ROLE_CREATION_LIMIT_TAG,
} from '../ports/tag-keys';
import type { SeedRoleRecord } from '../ports/iam-port';
import type { ReleaseOptions } from './release-gated-jobs';

/**
 * The reconciler's settings. What never changes after deploy comes from the
 * function's environment (set by the stack); what a console user may change
 * with a stack update (limit, namespaces) comes from the seed role's tags,
 * which the reconciler reads anyway when it clones the seed.
 */

/**
 * Condition keys are `<issuer>:sub`; tokens carry the issuer without
 * `https://` and without a trailing "/", so `…/id/<ID>/:sub` would match no
 * token. The stack writes it normalized already; an edited environment must
 * not undo that.
 */
const issuerSchema = z.pipe(
  z.string().check(z.minLength(1)),
  z.transform((issuer) => issuer.replace(/^https:\/\//, '').replace(/\/+$/, '')),
);

const clusterSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  providerArn: z.pipe(
    z.string().check(z.startsWith('arn:')),
    z.transform((arn) => arn.replace(/\/+$/, '')),
  ),
  issuer: issuerSchema,
});

const seedEnvSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  clusters: z.array(clusterSchema).check(z.minLength(1)),
  conditionOperator: z.enum(['StringLike', 'StringEquals']),
  /** Absent: IRSA mode (derived roles). */
  mode: z.optional(z.enum(['irsa', 'pod-identity'])),
  /** Pod-identity mode: seconds a new association must exist before its Jobs go, and quotas per cluster. */
  podIdentity: z.optional(
    z.strictObject({
      settleSeconds: z.number().check(z.int(), z.minimum(0), z.maximum(60)),
      associationQuotas: z.record(z.string(), z.number().check(z.int(), z.minimum(1))),
    }),
  ),
});

const seedsSchema = z.array(seedEnvSchema).check(z.minLength(1));

export const reconcilerEnvSchema = z.object({
  RECONCILER_SEEDS: z.pipe(
    z.string(),
    z.transform((text, ctx) => {
      try {
        return seedsSchema.parse(JSON.parse(text));
      } catch (e) {
        ctx.issues.push({
          code: 'custom',
          input: text,
          message: `RECONCILER_SEEDS is not the JSON the stack writes: ${(e as Error).message}`,
        });
        return z.NEVER;
      }
    }),
  ),
  EMPTY_ROLE_GRACE_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(0)), 3600),
  /**
   * Every seed's namespaces, space-separated: where a ServiceAccount may name
   * a seed that does not allow its namespace (refused with an Event).
   */
  WATCHED_NAMESPACES: z.optional(
    z.pipe(
      z.string(),
      z.transform((text) => [...new Set(text.split(/[\s,]+/).filter((n) => n !== ''))]),
    ),
  ),
  /** Set when the stack has a job gate: the reconciler then releases the Jobs it holds. */
  GATE_STUCK_AFTER_SECONDS: z.optional(z.coerce.number().check(z.int(), z.minimum(60))),
  /** 0 releases without proof; otherwise AssumeRoleWithWebIdentity attempts per Job and pass. */
  GATE_PROOF_ATTEMPTS: z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(30))),
  GATE_PROOF_DELAY_MS: z.optional(
    z.coerce.number().check(z.int(), z.minimum(0), z.maximum(10_000)),
  ),
});

export type SeedEnv = z.output<typeof seedEnvSchema>;
export type ReconcilerEnv = z.output<typeof reconcilerEnvSchema>;

/** How the reconciler releases gated Jobs, from its environment; undefined without a gate. */
export function gateReleaseOptions(env: ReconcilerEnv): ReleaseOptions | undefined {
  if (env.GATE_STUCK_AFTER_SECONDS === undefined) return undefined;
  return {
    stuckAfterSeconds: env.GATE_STUCK_AFTER_SECONDS,
    ...(env.GATE_PROOF_ATTEMPTS === undefined || env.GATE_PROOF_ATTEMPTS === 0
      ? {}
      : { proof: { attempts: env.GATE_PROOF_ATTEMPTS, delayMs: env.GATE_PROOF_DELAY_MS ?? 3000 } }),
  };
}

export function readReconcilerEnv(env: NodeJS.ProcessEnv): ReconcilerEnv {
  const parsed = reconcilerEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `reconciler environment is invalid (redeploy the stack, which sets it): ${parsed.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return parsed.data;
}

/** What the seed's tags say, with the problems found reading them. */
export interface SeedTagSettings {
  readonly derivedRolePath: string;
  readonly roleCreationLimit: number;
  readonly allowedNamespaces: readonly string[];
  /** Tags that were missing or unreadable, and what was used instead. */
  readonly warnings: readonly string[];
}

const DEFAULT_LIMIT = 100;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Reads the settings tags of a seed. A missing or garbled tag never widens
 * access: no namespaces means nobody is granted, a bad limit falls back to the
 * default, a limit whose last derived name would exceed 64 characters is
 * capped where it fits, a missing path stops the reconciler (it could not
 * find its roles).
 */
export function seedTagSettings(seed: SeedRoleRecord): SeedTagSettings {
  const tags = new Map(seed.tags.map((t) => [t.key, t.value]));
  const warnings: string[] = [];

  const path = tags.get(DERIVED_ROLE_PATH_TAG);
  if (path === undefined || !/^\/(?:[\x21-\x7E]*\/)?$/.test(path) || path === '/') {
    throw new Error(
      `seed ${seed.name} has no usable ${DERIVED_ROLE_PATH_TAG} tag (${JSON.stringify(path)}); it is set by the stack: redeploy it`,
    );
  }

  const limitText = tags.get(ROLE_CREATION_LIMIT_TAG);
  let roleCreationLimit = Number(limitText);
  if (!Number.isInteger(roleCreationLimit) || roleCreationLimit < 1) {
    warnings.push(
      `${ROLE_CREATION_LIMIT_TAG}=${JSON.stringify(limitText)} is not a positive whole number; using ${DEFAULT_LIMIT}`,
    );
    roleCreationLimit = DEFAULT_LIMIT;
  }
  // IAM refuses a role name over 64 characters (moto does not): past this, the
  // ServiceAccounts are refused with DerivedRoleLimitReached instead.
  const fits = maxRoleCreationLimitForName(seed.name);
  if (roleCreationLimit > fits) {
    warnings.push(
      `${ROLE_CREATION_LIMIT_TAG}=${roleCreationLimit} would name roles up to ${seed.name}-${roleCreationLimit - 1}, longer than IAM's 64 characters; using ${fits} (lower the stack parameter, or shorten the seed name)`,
    );
    roleCreationLimit = fits;
  }

  const namespaces = (tags.get(ALLOWED_NAMESPACES_TAG) ?? '').split(/\s+/).filter((n) => n !== '');
  const allowedNamespaces = namespaces.filter((n) => NAMESPACE.test(n) && n.length <= 63);
  if (allowedNamespaces.length !== namespaces.length) {
    warnings.push(
      `${ALLOWED_NAMESPACES_TAG} holds invalid namespace names, ignored: ${namespaces.filter((n) => !allowedNamespaces.includes(n)).join(', ')}`,
    );
  }
  if (allowedNamespaces.length === 0)
    warnings.push(`${ALLOWED_NAMESPACES_TAG} allows no namespace; nothing will be granted`);

  return { derivedRolePath: path, roleCreationLimit, allowedNamespaces, warnings };
}
