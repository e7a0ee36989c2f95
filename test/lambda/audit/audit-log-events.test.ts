import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { clusterOfLogGroup, normalizeAuditLogs } from '../../../lambda/audit/audit-log-events';
import { seedNameOf } from '../../../lambda/domain/iam-names';

function payload(
  messages: unknown[],
  logGroup = '/aws/eks/prod-cluster/cluster',
  messageType = 'DATA_MESSAGE',
): string {
  const body = {
    messageType,
    owner: '111122223333',
    logGroup,
    logStream: 'kube-apiserver-audit-0123',
    subscriptionFilters: ['kubestash-irsa'],
    logEvents: messages.map((m, i) => ({
      id: String(i),
      timestamp: 1778072138000 + i,
      message: typeof m === 'string' ? m : JSON.stringify(m),
    })),
  };
  return gzipSync(Buffer.from(JSON.stringify(body))).toString('base64');
}

function audit(overrides: Record<string, unknown> = {}) {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: 'a1',
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/demo/serviceaccounts',
    verb: 'create',
    objectRef: {
      resource: 'serviceaccounts',
      namespace: 'demo',
      name: 'sample-backup-daemon-demo-session-1778072138',
      apiVersion: 'v1',
    },
    responseStatus: { code: 201 },
    requestObject: {
      kind: 'ServiceAccount',
      metadata: {
        name: 'sample-backup-daemon-demo-session-1778072138',
        namespace: 'demo',
        annotations: {
          'go.klusters.dev/seed-role-name': 'arn:aws:iam::111122223333:role/KubestashRole',
        },
      },
    },
    ...overrides,
  };
}

const SEEDS = ['KubestashRole', 'VeleroRole'];

describe('normalizeAuditLogs', () => {
  test('a created ServiceAccount with a seed annotation becomes one event for that seed', () => {
    const { entries } = normalizeAuditLogs(payload([audit()]), SEEDS);
    expect(entries).toEqual([
      {
        Source: 'kubestash-irsa',
        DetailType: 'ServiceAccount Changed',
        Detail: JSON.stringify({
          seed: 'KubestashRole',
          cluster: 'prod-cluster',
          namespace: 'demo',
          name: 'sample-backup-daemon-demo-session-1778072138',
          operation: 'create',
        }),
      },
    ]);
  });

  test('a deletion names no seed, so every seed hears of it', () => {
    const deleted = audit({
      verb: 'delete',
      requestObject: undefined,
      responseStatus: { code: 200 },
    });
    const { entries } = normalizeAuditLogs(payload([deleted]), SEEDS);
    expect(entries.map((e) => JSON.parse(e.Detail).seed)).toEqual(SEEDS);
    expect(entries.every((e) => JSON.parse(e.Detail).operation === 'delete')).toBe(true);
  });

  test('a creation logged at Metadata level (no object) goes to every seed', () => {
    const { entries } = normalizeAuditLogs(
      payload([audit({ requestObject: undefined, level: 'Metadata' })]),
      SEEDS,
    );
    expect(entries).toHaveLength(2);
  });

  test('skips what is not a successful ServiceAccount create/delete, and says why', () => {
    const { entries, skipped } = normalizeAuditLogs(
      payload([
        'not json at all',
        { hello: 'world' },
        audit({ objectRef: { resource: 'pods', namespace: 'demo', name: 'p' } }),
        audit({ stage: 'RequestReceived' }),
        audit({ verb: 'patch' }),
        audit({ responseStatus: { code: 409 } }),
        audit({ requestObject: { metadata: { name: 'x', namespace: 'demo' } } }),
      ]),
      SEEDS,
    );
    expect(entries).toEqual([]);
    expect(skipped).toEqual({
      'not JSON': 1,
      'not an audit event': 1,
      'not a ServiceAccount change': 2,
      'not a create or delete': 1,
      'request failed': 1,
      'no seed annotation': 1,
    });
  });

  test('the same change twice in one delivery is forwarded once', () => {
    expect(normalizeAuditLogs(payload([audit(), audit()]), SEEDS).entries).toHaveLength(1);
  });

  test('control messages and foreign log groups yield nothing', () => {
    expect(
      normalizeAuditLogs(payload([], '/aws/eks/x/cluster', 'CONTROL_MESSAGE'), SEEDS).entries,
    ).toEqual([]);
    expect(normalizeAuditLogs(payload([audit()], '/aws/lambda/other'), SEEDS).skipped).toEqual({
      'not an EKS cluster log group': 1,
    });
  });

  test('garbage data is an error, not an empty result', () => {
    expect(() => normalizeAuditLogs('bm90IGd6aXA=', SEEDS)).toThrow();
  });

  test('never throws on arbitrary log lines', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.json())), (lines) => {
        const result = normalizeAuditLogs(payload(lines), SEEDS);
        expect(result.entries.length).toBeLessThanOrEqual(lines.length * SEEDS.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('helpers', () => {
  test('clusterOfLogGroup', () => {
    expect(clusterOfLogGroup('/aws/eks/prod-cluster/cluster')).toBe('prod-cluster');
    expect(clusterOfLogGroup('/aws/eks/prod-cluster/other')).toBeUndefined();
  });

  test('seedNameOf reads ARNs with or without a path, and bare names', () => {
    expect(seedNameOf('arn:aws:iam::111122223333:role/KubestashRole')).toBe('KubestashRole');
    expect(seedNameOf('arn:aws:iam::111122223333:role/team/KubestashRole')).toBe('KubestashRole');
    expect(seedNameOf('KubestashRole')).toBe('KubestashRole');
  });
});
