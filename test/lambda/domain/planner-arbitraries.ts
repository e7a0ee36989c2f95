import fc from 'fast-check';
import type { PlanInput, SeedSpec, ServiceAccountState } from '../../../lambda/domain/plan-types';

/** Generators for planner states, shared by the property tests. */

const ACCOUNT = '111122223333';

function provider(i: number) {
  const issuer = `oidc.eks.us-east-1.amazonaws.com/id/${String.fromCharCode(65 + i).repeat(32)}`;
  return {
    name: `cluster-${i}`,
    issuer,
    providerArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${issuer}`,
  };
}

export const CLUSTERS = [0, 1, 2].map(provider);

const label = (max: number) =>
  fc
    .tuple(
      fc.constantFrom('a', 'b', 'k', 'z'),
      fc.stringMatching(/^[a-z0-9-]*$/, { maxLength: max - 2 }),
      fc.constantFrom('0', 'x'),
    )
    .map(([a, mid, z]) => `${a}${mid}${z}`);

/** Namespaces from a small pool (so they collide), some at Kubernetes' 63-character maximum. */
export const namespaces = fc.constantFrom('demo', 'prod', 'db', 'n'.repeat(63), 'other');
export const ALLOWED = ['demo', 'prod', 'db', 'n'.repeat(63)];

/** ServiceAccount names, realistic and at the 253-character maximum. */
const saName = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .integer({ min: 1778000000, max: 1778099999 })
      .map((t) => `sample-backup-demo-session-${t}`),
  },
  { weight: 2, arbitrary: label(30) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 30 }).map((i) => `${'s'.repeat(250)}-${i}`.slice(-253)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 9 }).map((i) => `app-restore-${i}-restore`) },
);

export const seedSpec = (name: string): fc.Arbitrary<SeedSpec> =>
  fc.record({
    name: fc.constant(name),
    arn: fc.constant(`arn:aws:iam::${ACCOUNT}:role/${name}`),
    path: fc.constant(`/${name.toLowerCase()}/`),
    clusters: fc.subarray(CLUSTERS, { minLength: 1 }),
    conditionOperator: fc.constantFrom('StringLike' as const, 'StringEquals' as const),
    roleCreationLimit: fc.integer({ min: 1, max: 3 }),
  });

export const seeds = fc
  .tuple(seedSpec('KubestashRole'), fc.option(seedSpec('VeleroRole'), { nil: undefined }))
  .map(([a, b]) => (b === undefined ? [a] : [a, b]));

export function serviceAccounts(
  specs: readonly SeedSpec[],
  max = 40,
): fc.Arbitrary<ServiceAccountState[]> {
  const seedRef = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.constantFrom(...specs.map((s) => s.arn), ...specs.map((s) => s.name)),
    },
    { weight: 1, arbitrary: fc.constant(`arn:aws:iam::${ACCOUNT}:role/SomeoneElse`) },
  );
  return fc.array(
    fc.record({
      cluster: fc.constantFrom(...CLUSTERS.map((c) => c.name)),
      namespace: namespaces,
      name: saName,
      seedRole: seedRef,
    }),
    { maxLength: max, size: 'medium' },
  );
}

/** IAM's quotas, and now and then one so small that a long subject cannot fit even alone. */
export const quota = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(2048, 4096, 8192) },
  { weight: 1, arbitrary: fc.constant(700) },
);

export function state(
  specs: readonly SeedSpec[],
  sas: ServiceAccountState[],
  q: number,
): PlanInput {
  return {
    seeds: specs,
    allowedNamespaces: ALLOWED,
    quota: q,
    emptyRoleGracePeriodSeconds: 3600,
    now: '2026-11-22T12:00:00.000Z',
    roles: [],
    serviceAccounts: sas,
  };
}
