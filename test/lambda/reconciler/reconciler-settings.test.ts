import {
  gateReleaseOptions,
  readReconcilerEnv,
  seedTagSettings,
} from '../../../lambda/reconciler/reconciler-settings';
import type { SeedRoleRecord } from '../../../lambda/ports/iam-port';

function seed(tags: Record<string, string>): SeedRoleRecord {
  return {
    name: 'KubestashRole',
    path: '/',
    arn: 'arn:aws:iam::111122223333:role/KubestashRole',
    maxSessionDurationSeconds: 3600,
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    attachedPolicyArns: [],
    trustPolicy: '{}',
  };
}

const GOOD = {
  'kubestash-irsa.io/derived-role-path': '/kubestash-irsa/',
  'kubestash-irsa.io/role-creation-limit': '25',
  'kubestash-irsa.io/allowed-namespaces': 'demo prod',
};

describe('seedTagSettings', () => {
  test('reads the path, the limit and the namespaces the stack wrote', () => {
    expect(seedTagSettings(seed(GOOD))).toEqual({
      derivedRolePath: '/kubestash-irsa/',
      roleCreationLimit: 25,
      allowedNamespaces: ['demo', 'prod'],
      warnings: [],
    });
  });

  test('a garbled limit falls back to 100 and says so', () => {
    const s = seedTagSettings(seed({ ...GOOD, 'kubestash-irsa.io/role-creation-limit': 'many' }));
    expect(s.roleCreationLimit).toBe(100);
    expect(s.warnings[0]).toMatch(
      /role-creation-limit="many" is not a positive whole number; using 100/,
    );
  });

  test('bad or missing namespaces never widen access', () => {
    const s = seedTagSettings(
      seed({ ...GOOD, 'kubestash-irsa.io/allowed-namespaces': 'demo Bad_NS *' }),
    );
    expect(s.allowedNamespaces).toEqual(['demo']);
    expect(s.warnings[0]).toMatch(/ignored: Bad_NS, \*/);
    const none = seedTagSettings(seed({ ...GOOD, 'kubestash-irsa.io/allowed-namespaces': '' }));
    expect(none.allowedNamespaces).toEqual([]);
    expect(none.warnings).toContain(
      'kubestash-irsa.io/allowed-namespaces allows no namespace; nothing will be granted',
    );
  });

  test('without its path tag the seed cannot be reconciled', () => {
    expect(() => seedTagSettings(seed({}))).toThrow(
      /no usable kubestash-irsa.io\/derived-role-path tag.*redeploy/,
    );
    expect(() =>
      seedTagSettings(seed({ ...GOOD, 'kubestash-irsa.io/derived-role-path': '/' })),
    ).toThrow(/no usable/);
  });
});

describe('readReconcilerEnv', () => {
  const seeds = JSON.stringify([
    {
      name: 'KubestashRole',
      clusters: [{ name: 'prod', providerArn: 'arn:aws:iam::1:oidc-provider/x', issuer: 'x' }],
      conditionOperator: 'StringLike',
    },
  ]);

  test('parses what the stack sets', () => {
    expect(
      readReconcilerEnv({ RECONCILER_SEEDS: seeds, EMPTY_ROLE_GRACE_SECONDS: '600' }),
    ).toMatchObject({
      RECONCILER_SEEDS: [{ name: 'KubestashRole' }],
      EMPTY_ROLE_GRACE_SECONDS: 600,
    });
    expect(readReconcilerEnv({ RECONCILER_SEEDS: seeds }).EMPTY_ROLE_GRACE_SECONDS).toBe(3600);
  });

  test('WATCHED_NAMESPACES: every seed’s namespaces as the stack joins them, each once; unset reads none beyond each seed’s own', () => {
    expect(
      readReconcilerEnv({ RECONCILER_SEEDS: seeds, WATCHED_NAMESPACES: 'demo team-b demo,apps' })
        .WATCHED_NAMESPACES,
    ).toEqual(['demo', 'team-b', 'apps']);
    expect(readReconcilerEnv({ RECONCILER_SEEDS: seeds }).WATCHED_NAMESPACES).toBeUndefined();
  });

  test('says what is wrong and to redeploy', () => {
    expect(() => readReconcilerEnv({})).toThrow(
      /RECONCILER_SEEDS.*redeploy|redeploy.*RECONCILER_SEEDS/,
    );
    expect(() => readReconcilerEnv({ RECONCILER_SEEDS: 'not json' })).toThrow(
      /not the JSON the stack writes/,
    );
    expect(() => readReconcilerEnv({ RECONCILER_SEEDS: '[]' })).toThrow(/RECONCILER_SEEDS/);
  });
});

describe('gateReleaseOptions', () => {
  const SEEDS = JSON.stringify([
    {
      name: 'KubestashRole',
      conditionOperator: 'StringLike',
      clusters: [
        {
          name: 'prod',
          issuer: 'oidc.example/id/X',
          providerArn: 'arn:aws:iam::1:oidc-provider/x',
        },
      ],
    },
  ]);

  test('no gate settings: no release step', () => {
    expect(gateReleaseOptions(readReconcilerEnv({ RECONCILER_SEEDS: SEEDS }))).toBeUndefined();
  });

  test('with the gate: the stuck time, and the proof unless its attempts are 0', () => {
    expect(
      gateReleaseOptions(
        readReconcilerEnv({
          RECONCILER_SEEDS: SEEDS,
          GATE_STUCK_AFTER_SECONDS: '1800',
          GATE_PROOF_ATTEMPTS: '10',
          GATE_PROOF_DELAY_MS: '3000',
        }),
      ),
    ).toEqual({ stuckAfterSeconds: 1800, proof: { attempts: 10, delayMs: 3000 } });
    expect(
      gateReleaseOptions(
        readReconcilerEnv({
          RECONCILER_SEEDS: SEEDS,
          GATE_STUCK_AFTER_SECONDS: '1800',
          GATE_PROOF_ATTEMPTS: '0',
        }),
      ),
    ).toEqual({ stuckAfterSeconds: 1800 });
  });

  test('a stuck time under a minute is a deployment error', () => {
    expect(() =>
      readReconcilerEnv({ RECONCILER_SEEDS: SEEDS, GATE_STUCK_AFTER_SECONDS: '5' }),
    ).toThrow(/GATE_STUCK_AFTER_SECONDS/);
  });
});

describe('IAM layout (issue 11)', () => {
  test('a limit whose last derived name passes 64 characters is capped where it fits', () => {
    // IAM: role names have at most 64 characters (CreateRole RoleName, reference_iam-quotas).
    const name = 'R'.repeat(61);
    const s = seedTagSettings({
      ...seed({ ...GOOD, 'kubestash-irsa.io/role-creation-limit': '1000' }),
      name,
    });
    expect(s.roleCreationLimit).toBe(100);
    expect(`${name}-${s.roleCreationLimit - 1}`).toHaveLength(64);
    expect(s.warnings).toEqual([
      expect.stringContaining(`longer than IAM's 64 characters; using 100`),
    ]);
  });

  test('an issuer written with https:// or a trailing "/" is normalized', () => {
    const env = readReconcilerEnv({
      RECONCILER_SEEDS: JSON.stringify([
        {
          name: 'KubestashRole',
          conditionOperator: 'StringLike',
          clusters: [
            {
              name: 'prod',
              providerArn:
                'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC/',
              issuer: 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC/',
            },
          ],
        },
      ]),
    });
    expect(env.RECONCILER_SEEDS[0].clusters[0]).toEqual({
      name: 'prod',
      providerArn:
        'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC',
      issuer: 'oidc.eks.us-east-1.amazonaws.com/id/ABC',
    });
  });
});
