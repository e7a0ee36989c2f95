import { emptyPlan } from '../support/reconcile-results';
import fc from 'fast-check';
import { seedStatus } from '../../bin/status-model';
import type { SeedStatusInput } from '../../bin/status-model';
import { formatAge } from '../../bin/status-report';
import type { Assignment, ExistingRole, Refusal } from '../../lambda/domain/plan-types';
import { REFUSAL_REASONS } from '../../lambda/domain/plan-types';
import { renderTrustPolicy } from '../../lambda/domain/trust-policy';
import { GATE_ANNOTATION, GATE_REASON_ANNOTATION } from '../../lambda/ports/annotations';
import type { JobRecord } from '../../lambda/ports/kubernetes-port';
import { EMPTY_SINCE_TAG } from '../../lambda/ports/tag-keys';

const provider = {
  name: 'prod',
  providerArn: 'arn:aws:iam::123456789012:oidc-provider/oidc.example/id/A',
  issuer: 'oidc.example/id/A',
};
const seed = {
  name: 'KubestashRole',
  arn: 'arn:aws:iam::123456789012:role/KubestashRole',
  path: '/kubestash-irsa/',
  clusters: [provider],
  conditionOperator: 'StringLike' as const,
  roleCreationLimit: 3,
};
const NOW = new Date('2026-11-29T12:00:00Z');

function input(over: Partial<SeedStatusInput>): SeedStatusInput {
  return {
    seed,
    allowedNamespaces: ['demo'],
    quota: 2048,
    roles: [],
    plan: emptyPlan(),
    jobs: [],
    warnings: [],
    now: NOW,
    ...over,
  };
}

function job(over: Partial<JobRecord>): JobRecord {
  return {
    namespace: 'demo',
    name: 'j',
    uid: 'u',
    resourceVersion: '1',
    labels: {},
    annotations: { [GATE_ANNOTATION]: 'held' },
    serviceAccountName: 'sa',
    suspended: true,
    finished: false,
    creationTimestamp: '2026-11-29T11:30:00Z',
    ...over,
  };
}

describe('seedStatus', () => {
  test('every ServiceAccount the planner saw is in exactly one state; only the granted are not listed', () => {
    const sa = fc.record({
      name: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
      kind: fc.constantFrom('granted', 'waiting', 'refused'),
      reason: fc.constantFrom(...REFUSAL_REASONS),
    });
    fc.assert(
      fc.property(fc.uniqueArray(sa, { selector: (s) => s.name, maxLength: 30 }), (accounts) => {
        const assignments: Assignment[] = accounts
          .filter((a) => a.kind !== 'refused')
          .map((a) => ({
            cluster: 'prod',
            namespace: 'demo',
            name: a.name,
            seed: seed.name,
            roleName: 'KubestashRole-0',
            roleArn: 'arn:aws:iam::123456789012:role/kubestash-irsa/KubestashRole-0',
            annotate: a.kind === 'waiting',
          }));
        const refusals: Refusal[] = accounts
          .filter((a) => a.kind === 'refused')
          .map((a) => ({
            cluster: 'prod',
            namespace: 'demo',
            name: a.name,
            reason: a.reason,
            message: 'why',
          }));
        const status = seedStatus(input({ plan: { ...emptyPlan(), assignments, refusals } }));
        expect(status.granted + status.serviceAccounts.length).toBe(accounts.length);
        for (const a of accounts) {
          const listed = status.serviceAccounts.filter((s) => s.name === a.name);
          expect(listed.map((s) => s.state)).toEqual(a.kind === 'granted' ? [] : [a.kind]);
          if (a.kind === 'refused') expect(listed[0].reason).toBe(a.reason);
        }
      }),
    );
  });

  test('roles in index order, with subjects by cluster, size as IAM counts it, fill, and the empty mark', () => {
    const subjects = ['system:serviceaccount:demo:a', 'system:serviceaccount:demo:b'];
    const doc = renderTrustPolicy([{ provider, subjects }], 'StringLike');
    const roles: ExistingRole[] = [
      {
        name: 'KubestashRole-10',
        path: '/kubestash-irsa/',
        trustPolicy: encodeURIComponent(doc),
        tags: {},
        createDate: '',
      },
      {
        name: 'KubestashRole-2',
        path: '/kubestash-irsa/',
        trustPolicy: JSON.stringify(JSON.parse(doc), null, 2),
        tags: { [EMPTY_SINCE_TAG]: '2026-11-29T11:00:00Z' },
        createDate: '',
      },
    ];
    const status = seedStatus(input({ roles }));
    expect(status.roles.map((r) => r.name)).toEqual(['KubestashRole-2', 'KubestashRole-10']);
    for (const r of status.roles) {
      // Whitespace does not count, URL-encoding is undone: both are the same document to IAM.
      expect(r.size).toBe(doc.length);
      expect(r.fill).toBe(Math.floor((doc.length * 1000) / 2048) / 10);
      expect(r.subjects).toEqual(subjects.map((subject) => ({ cluster: 'prod', subject })));
    }
    expect(status.roles[0].emptySince).toBe('2026-11-29T11:00:00Z');
    expect(status.roles[1].emptySince).toBeUndefined();
  });

  test('a document the reconciler did not write is reported, not fatal', () => {
    const status = seedStatus(
      input({
        roles: [
          { name: 'KubestashRole-0', path: '/p/', trustPolicy: '%7Bnot', tags: {}, createDate: '' },
        ],
      }),
    );
    expect(status.roles[0].problem).toMatch(/not JSON/);
  });

  test("held Jobs: the reconciler's written reason wins; otherwise the ServiceAccount's state says why; oldest first", () => {
    const refusals: Refusal[] = [
      { cluster: 'prod', namespace: 'demo', name: 'sa', reason: 'SubjectTooLarge', message: 'm' },
    ];
    const status = seedStatus(
      input({
        plan: { ...emptyPlan(), refusals },
        jobs: [
          {
            cluster: 'prod',
            job: job({ name: 'young', creationTimestamp: '2026-11-29T11:59:00Z' }),
          },
          {
            cluster: 'prod',
            job: job({
              name: 'old',
              annotations: {
                [GATE_ANNOTATION]: 'stuck',
                [GATE_REASON_ANNOTATION]: 'held for over 30 min: x',
              },
            }),
          },
          { cluster: 'prod', job: job({ name: 'undated', creationTimestamp: undefined }) },
        ],
      }),
    );
    expect(status.heldJobs).toEqual([
      expect.objectContaining({
        name: 'old',
        state: 'stuck',
        message: 'held for over 30 min: x',
        ageSeconds: 1800,
      }),
      expect.objectContaining({
        name: 'young',
        state: 'held',
        reason: 'SubjectTooLarge',
        message: 'm',
        ageSeconds: 60,
      }),
      expect.not.objectContaining({ ageSeconds: expect.anything() }),
    ]);
  });
});

describe('formatAge', () => {
  test.each([
    [0, '0s'],
    [59.9, '59s'],
    [60, '1m'],
    [3599, '59m'],
    [3600, '1h00m'],
    [3 * 3600 + 5 * 60, '3h05m'],
    [2 * 86400 + 4 * 3600, '2d04h'],
    [-5, '0s'],
  ])('%s seconds is %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text);
  });
});
