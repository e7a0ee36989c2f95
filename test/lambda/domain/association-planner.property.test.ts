import fc from 'fast-check';
import { planAssociations, subjectKey } from '../../../lambda/domain/association-planner';
import type {
  AssociationPlan,
  AssociationPlanInput,
  AssociationSubject,
  ExistingAssociation,
} from '../../../lambda/domain/association-planner';

const RUNS = Number(process.env.PLANNER_PROPERTY_RUNS ?? 300);
const SEED_ARN = 'arn:aws:iam::111122223333:role/PodIdentityRole';
const OTHER_ARN = 'arn:aws:iam::111122223333:role/SomeoneElse';
const CLUSTERS = ['a', 'b'];

const subject = fc.record({
  cluster: fc.constantFrom(...CLUSTERS),
  namespace: fc.constantFrom('demo', 'prod'),
  serviceAccount: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `sa-${i}`)),
});

const existing = fc
  .array(
    fc.record({
      subject,
      roleArn: fc.constantFrom(SEED_ARN, SEED_ARN, OTHER_ARN),
      ours: fc.boolean(),
    }),
    { maxLength: 20 },
  )
  .map((list) => {
    // EKS holds at most one association per ServiceAccount.
    const bySubject = new Map(list.map((x) => [subjectKey(x.subject), x]));
    return [...bySubject.values()].map((x, i): ExistingAssociation => ({
      ...x.subject,
      associationId: `a-${i}`,
      roleArn: x.roleArn,
      ours: x.ours,
      createdAt: '2026-11-30T00:00:00.000Z',
    }));
  });

const input: fc.Arbitrary<AssociationPlanInput> = fc.record({
  seed: fc.constant('PodIdentityRole'),
  roleArn: fc.constant(SEED_ARN),
  eligible: fc.array(subject, { maxLength: 25 }),
  existing,
  quotas: fc.record({ a: fc.integer({ min: 0, max: 30 }), b: fc.integer({ min: 0, max: 30 }) }),
});

/** What EKS holds after the plan is applied (deletes, then creates with fresh ids). */
function apply(before: AssociationPlanInput, plan: AssociationPlan): ExistingAssociation[] {
  const gone = new Set(plan.deletes.map((d) => d.associationId));
  return [
    ...before.existing.filter((a) => !gone.has(a.associationId)),
    ...plan.creates.map((c, i) => ({
      ...c,
      associationId: `new-${i}`,
      roleArn: before.roleArn,
      ours: true,
      createdAt: '2026-11-30T00:01:00.000Z',
    })),
  ];
}

describe('planAssociations (properties)', () => {
  test('every eligible ServiceAccount is granted, created or refused: exactly one', () => {
    fc.assert(
      fc.property(input, (i) => {
        const p = planAssociations(i);
        const outcomes = [...p.granted, ...p.creates, ...p.refusals].map(subjectKey);
        const eligible = new Set(i.eligible.map(subjectKey));
        expect(new Set(outcomes).size).toBe(outcomes.length);
        expect(new Set(outcomes)).toEqual(eligible);
      }),
      { numRuns: RUNS },
    );
  });

  test("only the seed's own associations are deleted, and only when not wanted as they are", () => {
    fc.assert(
      fc.property(input, (i) => {
        const wanted = new Set(i.eligible.map(subjectKey));
        for (const d of planAssociations(i).deletes) {
          const a = i.existing.find((x) => x.associationId === d.associationId);
          expect(a?.ours).toBe(true);
          expect(!wanted.has(subjectKey(d)) || a?.roleArn !== i.roleArn).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('no cluster goes above its quota through a create', () => {
    fc.assert(
      fc.property(input, (i) => {
        const after = apply(i, planAssociations(i));
        for (const c of CLUSTERS) {
          const before = i.existing.filter((a) => a.cluster === c).length;
          const count = after.filter((a) => a.cluster === c).length;
          expect(count).toBeLessThanOrEqual(Math.max(before, i.quotas[c]));
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('a second pass over the result writes nothing (idempotence)', () => {
    fc.assert(
      fc.property(input, (i) => {
        const first = planAssociations(i);
        const second = planAssociations({ ...i, existing: apply(i, first) });
        expect(second.creates).toEqual([]);
        expect(second.deletes).toEqual([]);
        // The ServiceAccounts refused for quota stay the same ones (stable Events).
        expect(second.refusals.map(subjectKey)).toEqual(first.refusals.map(subjectKey));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('planAssociations (examples)', () => {
  const sa = (name: string, cluster = 'a'): AssociationSubject => ({
    cluster,
    namespace: 'demo',
    serviceAccount: name,
  });
  const assoc = (name: string, over: Partial<ExistingAssociation> = {}): ExistingAssociation => ({
    ...sa(name),
    associationId: `id-${name}`,
    roleArn: SEED_ARN,
    ours: true,
    createdAt: '2026-11-30T00:00:00.000Z',
    ...over,
  });
  const base = { seed: 'PodIdentityRole', roleArn: SEED_ARN, quotas: { a: 5000 } };

  test('one create per new ServiceAccount; none for one already associated', () => {
    const p = planAssociations({ ...base, eligible: [sa('x'), sa('y')], existing: [assoc('x')] });
    expect(p.creates).toEqual([sa('y')]);
    expect(p.granted.map((g) => g.associationId)).toEqual(['id-x']);
    expect(p.deletes).toEqual([]);
  });

  test('deletes ours whose ServiceAccount is gone, never a foreign one', () => {
    const p = planAssociations({
      ...base,
      eligible: [],
      existing: [assoc('gone'), assoc('theirs', { ours: false, roleArn: OTHER_ARN })],
    });
    expect(p.deletes).toEqual([
      { ...sa('gone'), associationId: 'id-gone', why: 'ServiceAccountGone' },
    ]);
  });

  test('refuses a ServiceAccount someone else associated, and leaves theirs alone', () => {
    const p = planAssociations({
      ...base,
      eligible: [sa('x')],
      existing: [assoc('x', { ours: false, roleArn: OTHER_ARN })],
    });
    expect(p.refusals.map((r) => r.reason)).toEqual(['ForeignAssociation']);
    expect(p.creates).toEqual([]);
    expect(p.deletes).toEqual([]);
  });

  test('at the quota, refuses in name order with a message naming the fix', () => {
    const p = planAssociations({
      ...base,
      quotas: { a: 2 },
      eligible: [sa('c'), sa('b'), sa('a')],
      existing: [assoc('z', { ours: false, roleArn: OTHER_ARN })],
    });
    expect(p.creates).toEqual([sa('a')]);
    expect(p.refusals.map((r) => [r.serviceAccount, r.reason])).toEqual([
      ['b', 'AssociationQuotaReached'],
      ['c', 'AssociationQuotaReached'],
    ]);
    expect(p.refusals[0].message).toContain('Service Quotas');
    expect(p.refusals[0].message).toContain('clusters[].podIdentity.associationQuota');
  });

  test('a delete frees room for a create in the same pass', () => {
    const p = planAssociations({
      ...base,
      quotas: { a: 1 },
      eligible: [sa('new')],
      existing: [assoc('old')],
    });
    expect(p.deletes.map((d) => d.serviceAccount)).toEqual(['old']);
    expect(p.creates).toEqual([sa('new')]);
  });
});
