import fc from 'fast-check';
import { applyPlan } from '../../../lambda/domain/apply-plan';
import { heldServiceAccounts } from '../../../lambda/domain/held-subjects';
import type { ExistingRole, PlanInput } from '../../../lambda/domain/plan-types';
import { plan } from '../../../lambda/domain/planner';
import { parseTrustPolicy } from '../../../lambda/domain/trust-policy';
import { seedSpec, serviceAccounts, state } from './planner-arbitraries';

const RUNS = Number(process.env.PLANNER_PROPERTY_RUNS ?? 300);

/** `role|subject` for every subject the given provider has in the roles. */
function placements(roles: readonly ExistingRole[], providerArn: string): Set<string> {
  const out = new Set<string>();
  for (const role of roles) {
    for (const subject of parseTrustPolicy(role.trustPolicy).grants.get(providerArn) ?? []) {
      out.add(`${role.name}|${subject}`);
    }
  }
  return out;
}

const scenario = seedSpec('KubestashRole').chain((spec) =>
  fc.record({
    spec: fc.constant(spec),
    before: serviceAccounts([spec]),
    after: serviceAccounts([spec]),
    unreadIndex: fc.nat(),
    q: fc.constantFrom(2048, 4096),
  }),
);

describe('heldServiceAccounts: a cluster that could not be read keeps its grants', () => {
  test('planning with the held state moves and removes none of its subjects, and the others are planned as read', () => {
    fc.assert(
      fc.property(scenario, ({ spec, before, after, unreadIndex, q }) => {
        const unread = spec.clusters[unreadIndex % spec.clusters.length];
        const settled = applyPlan(state([spec], before, q), plan(state([spec], before, q)));
        const held = heldServiceAccounts(spec, settled.roles, [unread.name]);
        // Every held record belongs to the unread cluster and names an existing role.
        for (const sa of held) {
          expect(sa.cluster).toBe(unread.name);
          expect(settled.roles.some((r) => sa.roleArn?.endsWith(`/${r.name}`))).toBe(true);
        }
        const read = [...settled.serviceAccounts, ...after].filter(
          (sa) => sa.cluster !== unread.name,
        );
        const input: PlanInput = { ...settled, serviceAccounts: [...read, ...held] };
        const result = plan(input);
        const next = applyPlan(input, result);
        const was = placements(settled.roles, unread.providerArn);
        const now = placements(next.roles, unread.providerArn);
        expect([...was].filter((p) => !now.has(p))).toEqual([]);
        // Nothing new appears for the unread cluster either.
        expect([...now].filter((p) => !was.has(p))).toEqual([]);
        // No write is planned on the unread cluster's ServiceAccounts.
        expect(result.assignments.filter((a) => a.cluster === unread.name && a.annotate)).toEqual(
          [],
        );
      }),
      { numRuns: RUNS },
    );
  });

  test('without an unread cluster nothing is held', () => {
    fc.assert(
      fc.property(scenario, ({ spec, before, q }) => {
        const settled = applyPlan(state([spec], before, q), plan(state([spec], before, q)));
        expect(heldServiceAccounts(spec, settled.roles, [])).toEqual([]);
        expect(heldServiceAccounts(spec, settled.roles, ['not-a-cluster-of-the-seed'])).toEqual([]);
      }),
      { numRuns: 50 },
    );
  });

  test('an unreadable trust policy holds nothing and does not throw', () => {
    const spec = {
      name: 'KubestashRole',
      arn: 'arn:aws:iam::111122223333:role/KubestashRole',
      path: '/kubestash-irsa/',
      clusters: [
        { name: 'c', issuer: 'i', providerArn: 'arn:aws:iam::111122223333:oidc-provider/i' },
      ],
      conditionOperator: 'StringLike' as const,
      roleCreationLimit: 3,
    };
    const role = {
      name: 'KubestashRole-0',
      path: '/kubestash-irsa/',
      trustPolicy: 'not json',
      tags: {},
      createDate: '2026-01-01T00:00:00Z',
    };
    expect(heldServiceAccounts(spec, [role], ['c'])).toEqual([]);
  });
});
