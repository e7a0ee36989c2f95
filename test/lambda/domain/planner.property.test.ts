import fc from 'fast-check';
import { applyPlan } from '../../../lambda/domain/apply-plan';
import { derivedRoleIndex } from '../../../lambda/domain/iam-names';
import type { ExistingRole, Plan, PlanInput, SeedSpec } from '../../../lambda/domain/plan-types';
import { plan } from '../../../lambda/domain/planner';
import { policySize } from '../../../lambda/domain/policy-size';
import { serviceAccountSubject } from '../../../lambda/domain/subject';
import { decodePolicyDocument, parseTrustPolicy } from '../../../lambda/domain/trust-policy';
import { ALLOWED, quota, seedSpec, seeds, serviceAccounts, state } from './planner-arbitraries';

const RUNS = Number(process.env.PLANNER_PROPERTY_RUNS ?? 1000);

type Corruption =
  'none' | 'duplicate' | 'foreign-statement' | 'operator' | 'garbage' | 'pretty-printed';

/** Hand edits people make to derived roles' trust policies. */
function corrupt(roles: readonly ExistingRole[], how: Corruption, pick: number): ExistingRole[] {
  if (roles.length === 0 || how === 'none') return [...roles];
  const i = pick % roles.length;
  const target = roles[i];
  const doc = decodePolicyDocument(target.trustPolicy) as { Statement: Record<string, any>[] };
  let edited: string;
  switch (how) {
    case 'duplicate': {
      const j = (i + 1) % roles.length;
      const other = decodePolicyDocument(roles[j].trustPolicy) as {
        Statement: Record<string, any>[];
      };
      const stolen = other.Statement.find((s) => s.Effect === 'Allow');
      if (stolen === undefined) return [...roles];
      doc.Statement = [
        ...doc.Statement.filter((s) => s.Principal.Federated !== stolen.Principal.Federated),
        stolen,
      ];
      edited = JSON.stringify(doc);
      break;
    }
    case 'foreign-statement':
      doc.Statement.push({
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::999999999999:root' },
        Action: 'sts:AssumeRole',
      });
      edited = JSON.stringify(doc);
      break;
    case 'operator':
      for (const s of doc.Statement) {
        if (s.Condition !== undefined) {
          const [op] = Object.keys(s.Condition);
          s.Condition = { [op === 'StringLike' ? 'StringEquals' : 'StringLike']: s.Condition[op] };
        }
      }
      edited = JSON.stringify(doc);
      break;
    case 'garbage':
      edited = 'this is not json';
      break;
    case 'pretty-printed':
      edited = JSON.stringify(doc, null, 2);
      break;
  }
  return roles.map((r, k) => (k === i ? { ...r, trustPolicy: encodeURIComponent(edited) } : r));
}

const scenario = seeds.chain((specs) =>
  fc.record({
    specs: fc.constant(specs),
    before: serviceAccounts(specs),
    after: serviceAccounts(specs),
    keep: fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }),
    q1: quota,
    q2: quota,
    corruption: fc.constantFrom<Corruption>(
      'none',
      'none',
      'duplicate',
      'foreign-statement',
      'operator',
      'garbage',
      'pretty-printed',
    ),
    pick: fc.nat(),
    laterSeconds: fc.constantFrom(0, 60, 3600, 7200),
  }),
);

interface Scenario {
  readonly input: PlanInput;
  readonly result: Plan;
  readonly next: PlanInput;
}

type Generated = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function run(s: Generated): Scenario {
  const first = state(s.specs, s.before, s.q1);
  const granted = applyPlan(first, plan(first));
  // Some ServiceAccounts go away: roles left empty get their empty-since mark.
  const kept = granted.serviceAccounts.filter((_, i) => s.keep[i % s.keep.length]);
  const thinned = { ...granted, serviceAccounts: kept };
  const settled = applyPlan(thinned, plan(thinned));
  const input: PlanInput = {
    ...settled,
    quota: s.q2,
    now: new Date(Date.parse(settled.now) + s.laterSeconds * 1000).toISOString(),
    roles: corrupt(settled.roles, s.corruption, s.pick),
    // One ServiceAccount has one annotation: a name generated twice keeps its first record.
    serviceAccounts: uniqueByName([...kept, ...s.after]),
  };
  const result = plan(input);
  return { input, result, next: applyPlan(input, result) };
}

function uniqueByName<T extends { cluster: string; namespace: string; name: string }>(
  list: readonly T[],
): T[] {
  const seen = new Set<string>();
  return list.filter((sa) => {
    const key = `${sa.cluster}/${sa.namespace}/${sa.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function ownRoles(input: PlanInput, seed: SeedSpec): ExistingRole[] {
  return input.roles.filter(
    (r) => r.path === seed.path && derivedRoleIndex(seed.name, r.name) !== undefined,
  );
}

/** subject key → role names that trust it, for one seed. */
function trusted(input: PlanInput, seed: SeedSpec): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const role of ownRoles(input, seed)) {
    let grants: ReadonlyMap<string, readonly string[]>;
    try {
      grants = parseTrustPolicy(role.trustPolicy).grants;
    } catch {
      continue; // a garbled document trusts nobody the planner knows of
    }
    for (const [provider, subjects] of grants) {
      for (const subject of subjects) {
        const key = `${provider} ${subject}`;
        map.set(key, [...(map.get(key) ?? []), role.name]);
      }
    }
  }
  return map;
}

function eligible(input: PlanInput, seed: SeedSpec) {
  return input.serviceAccounts.filter(
    (sa) =>
      (sa.seedRole === seed.arn || sa.seedRole === seed.name) &&
      ALLOWED.includes(sa.namespace) &&
      seed.clusters.some((c) => c.name === sa.cluster),
  );
}

function subjectKey(
  seed: SeedSpec,
  sa: { cluster: string; namespace: string; name: string },
): string {
  const provider = seed.clusters.find((c) => c.name === sa.cluster);
  return `${provider?.providerArn} ${serviceAccountSubject(sa.namespace, sa.name)}`;
}

const property = (check: (s: Scenario) => void) =>
  fc.assert(
    fc.property(scenario, (s) => check(run(s))),
    { numRuns: RUNS },
  );

describe('planner invariants (property-based)', () => {
  test('1. every eligible, unrefused ServiceAccount is in exactly one role of its seed; nothing else is trusted', () => {
    property(({ result, next }) => {
      const refused = new Set(result.refusals.map((r) => `${r.cluster}/${r.namespace}/${r.name}`));
      for (const seed of next.seeds) {
        const trust = trusted(next, seed);
        const wanted = new Set<string>();
        for (const sa of eligible(next, seed)) {
          const key = subjectKey(seed, sa);
          if (refused.has(`${sa.cluster}/${sa.namespace}/${sa.name}`)) {
            expect(['DerivedRoleLimitReached', 'SubjectTooLarge']).toContain(
              result.refusals.find(
                (r) =>
                  r.cluster === sa.cluster && r.namespace === sa.namespace && r.name === sa.name,
              )?.reason,
            );
            continue;
          }
          wanted.add(key);
          expect(trust.get(key)).toHaveLength(1);
        }
        for (const key of trust.keys()) expect(wanted.has(key)).toBe(true);
      }
    });
  });

  test('2. no rendered document exceeds the quota', () => {
    property(({ result, next }) => {
      for (const w of [...result.creates, ...result.updates]) {
        if (w.trustPolicy !== undefined)
          expect(policySize(w.trustPolicy)).toBeLessThanOrEqual(result.quota);
      }
      for (const seed of next.seeds) {
        for (const role of ownRoles(next, seed)) {
          expect(
            policySize(JSON.stringify(decodePolicyDocument(role.trustPolicy))),
          ).toBeLessThanOrEqual(result.quota);
        }
      }
    });
  });

  test('3. a subject already granted stays in its role (unless its role overflowed a lowered quota)', () => {
    property(({ input, next, result }) => {
      for (const seed of input.seeds) {
        const before = trusted(input, seed);
        const after = trusted(next, seed);
        for (const [key, roles] of before) {
          const now = after.get(key);
          if (now === undefined || roles.length !== 1) continue;
          const overflowed = result.notes.some((n) => n.startsWith(`${roles[0]} exceeded`));
          if (!overflowed) expect(now).toEqual(roles);
        }
      }
    });
  });

  test('4. gone subjects are removed; only roles empty past the grace period are deleted', () => {
    property(({ input, result }) => {
      for (const del of result.deletes) {
        const seed = input.seeds.find((s) => s.name === del.seed);
        if (seed === undefined) throw new Error('delete for an unknown seed');
        const role = input.roles.find((r) => r.name === del.roleName);
        const since = Date.parse(role?.tags['kubestash-irsa.io/empty-since'] ?? '');
        expect(Date.parse(input.now) - since).toBeGreaterThanOrEqual(
          input.emptyRoleGracePeriodSeconds * 1000,
        );
        const stillWanted = eligible(input, seed).some((sa) =>
          result.assignments.some((a) => a.roleName === del.roleName && a.name === sa.name),
        );
        expect(stillWanted).toBe(false);
      }
    });
  });

  test('5. a seed never gets more derived roles than its limit; refusals for the limit only at the limit', () => {
    property(({ input, next, result }) => {
      for (const seed of next.seeds) {
        const count = ownRoles(next, seed).length;
        expect(count).toBeLessThanOrEqual(
          Math.max(seed.roleCreationLimit, ownRoles(input, seed).length),
        );
        const limitRefusals = result.refusals.filter(
          (r) => r.reason === 'DerivedRoleLimitReached' && r.message.includes(`seed ${seed.name} `),
        );
        if (limitRefusals.length > 0) expect(count).toBeGreaterThanOrEqual(seed.roleCreationLimit);
      }
    });
  });

  test('6. idempotent: planning from the plan’s result writes nothing', () => {
    property(({ next }) => {
      const again = plan(next);
      expect(again.creates).toEqual([]);
      expect(again.updates).toEqual([]);
      expect(again.deletes).toEqual([]);
      expect(again.assignments.filter((a) => a.annotate)).toEqual([]);
    });
  });

  test('7. each role is written at most once per plan', () => {
    property(({ result }) => {
      const names = [...result.creates, ...result.updates, ...result.deletes].map(
        (w) => w.roleName,
      );
      expect(new Set(names).size).toBe(names.length);
    });
  });

  test('deterministic: the same input gives the same plan', () => {
    property(({ input, result }) => {
      expect(plan(input)).toEqual(result);
    });
  });
});

describe('IAM layout (issue 11), property-based', () => {
  test('several clusters take no more roles than packing each cluster separately', () => {
    // Below the limit, so that each cluster alone is packed largest first too.
    const arbitrary = seedSpec('KubestashRole').chain((spec) =>
      fc.record({
        seed: fc.constant({ ...spec, roleCreationLimit: 100 }),
        sas: serviceAccounts([spec], 120),
        q: quota,
      }),
    );
    fc.assert(
      fc.property(arbitrary, ({ seed, sas, q }) => {
        const mine = sas.filter((sa) => sa.seedRole === seed.arn || sa.seedRole === seed.name);
        const together = plan(state([seed], mine, q));
        const alone = seed.clusters
          .map(
            (c) =>
              plan(
                state(
                  [{ ...seed, clusters: [c] }],
                  mine.filter((sa) => sa.cluster === c.name),
                  q,
                ),
              ).creates.length,
          )
          .reduce((a, n) => a + n, 0);
        expect(together.creates.length).toBeLessThanOrEqual(alone);
        // Indices stay dense: folding a role leaves no gap.
        expect(together.creates.map((c) => c.roleName).sort()).toEqual(
          together.creates.map((_, i) => `KubestashRole-${i}`).sort(),
        );
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });

  test('no derived role is named over 64 characters or like a role the seed does not own', () => {
    const arbitrary = fc.record({
      length: fc.integer({ min: 56, max: 62 }),
      limit: fc.integer({ min: 1, max: 1000 }),
      foreign: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 5 }),
      upper: fc.boolean(),
      count: fc.integer({ min: 0, max: 300 }),
    });
    fc.assert(
      fc.property(arbitrary, ({ length, limit, foreign, upper, count }) => {
        const name = 'R'.repeat(length);
        const seed: SeedSpec = {
          name,
          arn: `arn:aws:iam::111122223333:role/${name}`,
          path: '/p/',
          clusters: [
            {
              name: 'prod',
              issuer: 'oidc.eks.us-east-1.amazonaws.com/id/A',
              providerArn:
                'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/A',
            },
          ],
          conditionOperator: 'StringLike',
          roleCreationLimit: limit,
        };
        const foreignNames = foreign.map((i) => `${upper ? name.toLowerCase() : name}-${i}`);
        const sas = Array.from({ length: count }, (_, i) => ({
          cluster: 'prod',
          namespace: 'demo',
          name: `backup-session-${1778072138 + i}`,
          seedRole: seed.arn,
        }));
        const result = plan({ ...state([seed], sas, 2048), foreignRoleNames: foreignNames });
        for (const c of result.creates) {
          expect(c.roleName.length).toBeLessThanOrEqual(64);
          for (const f of foreignNames) {
            expect(c.roleName.toLowerCase()).not.toBe(f.toLowerCase());
          }
        }
        expect(result.creates.length).toBeLessThanOrEqual(limit);
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });
});

describe('the generated states reach every path', () => {
  test('limits, oversized subjects, evictions, repairs, deletions and duplicates all occur', () => {
    const seen = new Map<string, number>();
    const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
    for (const s of fc.sample(scenario, { numRuns: 1500, seed: 42 })) {
      const { result } = run(s);
      for (const r of result.refusals) count(r.reason);
      if (result.deletes.length > 0) count('delete');
      if (result.updates.some((u) => u.trustPolicy === undefined)) count('tag-only update');
      if (result.notes.some((n) => n.includes('exceeded'))) count('eviction');
      if (result.notes.some((n) => n.includes('repairing'))) count('repair');
      if (result.notes.some((n) => n.includes('keeping it in'))) count('duplicate');
      if (result.notes.some((n) => n.includes('unreadable'))) count('unreadable');
    }
    for (const what of [
      'DerivedRoleLimitReached',
      'SubjectTooLarge',
      'NamespaceNotAllowed',
      'SeedRoleNotAllowed',
      'ClusterNotAllowed',
      'delete',
      'eviction',
      'repair',
      'duplicate',
      'unreadable',
    ]) {
      expect({ what, times: seen.get(what) ?? 0 }).toEqual({ what, times: expect.any(Number) });
      if ((seen.get(what) ?? 0) === 0)
        throw new Error(`the generators never produce: ${what} (${JSON.stringify([...seen])})`);
    }
  });
});
