import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { IamAdapter, RoleAlreadyExistsError } from '../../../../lambda/adapters/iam/iam-adapter';
import { TrustPolicyQuotaExceededError } from '../../../../lambda/ports/iam-port';
import type { DerivedRoleSpec } from '../../../../lambda/ports/iam-port';
import { FaultyAwsHandler, SimulatedCrash } from '../../../support/faulty-aws-handler';
import type { FaultOptions } from '../../../support/faulty-aws-handler';
import { createAccessPolicy } from '../../../support/moto-seed';
import { motoForEachTest } from '../../../support/moto-for-jest';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG } from '../../../support/moto-server';

const moto = motoForEachTest();

function client(faults: FaultOptions = {}) {
  const handler = new FaultyAwsHandler(faults);
  const iam = new IAMClient({
    ...MOTO_CLIENT_CONFIG,
    endpoint: moto.endpoint,
    requestHandler: handler,
    maxAttempts: 5,
  });
  return { iam, handler, adapter: new IamAdapter(iam) };
}

const PROVIDER = `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC`;
function trust(subjects: string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringLike: {
            'oidc.eks.us-east-1.amazonaws.com/id/ABC:sub': subjects,
            'oidc.eks.us-east-1.amazonaws.com/id/ABC:aud': 'sts.amazonaws.com',
          },
        },
      },
    ],
  });
}

function spec(overrides: Partial<DerivedRoleSpec> = {}): DerivedRoleSpec {
  return {
    name: 'KubestashRole-0',
    path: '/kubestash-irsa/',
    trustPolicy: trust(['system:serviceaccount:demo:a']),
    description: 'derived from KubestashRole',
    maxSessionDurationSeconds: 7200,
    permissionsBoundaryArn: `arn:aws:iam::${MOTO_ACCOUNT}:policy/boundary`,
    tags: [
      { key: 'kubestash-irsa.io/seed', value: 'KubestashRole' },
      { key: 'kubestash-irsa.io/managed-by', value: 'kubestash-irsa' },
    ],
    policyArns: [],
    ...overrides,
  };
}

describe('IamAdapter against moto', () => {
  test('reads the trust-policy quota from GetAccountSummary', async () => {
    expect(await client().adapter.getTrustPolicySizeQuota()).toBe(2048);
  });

  test('creates a full clone: path, boundary, session, description, tags, then the policies', async () => {
    const { iam, adapter, handler } = client();
    const policyArn = await createAccessPolicy(iam, 'access');
    await adapter.createRole(spec({ policyArns: [policyArn] }));
    const { Role: role } = await iam.send(new GetRoleCommand({ RoleName: 'KubestashRole-0' }));
    expect(role).toMatchObject({
      Path: '/kubestash-irsa/',
      Description: 'derived from KubestashRole',
      MaxSessionDuration: 7200,
      PermissionsBoundary: {
        PermissionsBoundaryArn: `arn:aws:iam::${MOTO_ACCOUNT}:policy/boundary`,
      },
    });
    expect(await adapter.getRoleTags('KubestashRole-0')).toEqual(
      expect.arrayContaining([...spec().tags]),
    );
    expect(await adapter.listAttachedPolicyArns('KubestashRole-0')).toEqual([policyArn]);
    // The role exists with its boundary before any permission is attached.
    expect(handler.actions.filter((a) => a === 'CreateRole' || a === 'AttachRolePolicy')).toEqual([
      'CreateRole',
      'AttachRolePolicy',
    ]);
  });

  test("lists the roles of exactly one path, with their trust documents, in pages of IAM's most (1,000)", async () => {
    const { adapter, handler } = client();
    for (let i = 0; i < 120; i++)
      await adapter.createRole(spec({ name: `KubestashRole-${i}`, policyArns: [] }));
    await adapter.createRole(spec({ name: 'Other-0', path: '/kubestash-irsa/nested/' }));
    const before = handler.actions.filter((a) => a === 'ListRoles').length;
    const roles = await adapter.listRolesUnderPath('/kubestash-irsa/');
    expect(roles).toHaveLength(120);
    // 121 roles under the prefix: one page (IAM's default, 100, would take two).
    expect(handler.actions.filter((a) => a === 'ListRoles').length - before).toBe(1);
    expect(roles[0]).toMatchObject({
      path: '/kubestash-irsa/',
      arn: `arn:aws:iam::${MOTO_ACCOUNT}:role/kubestash-irsa/${roles[0].name}`,
    });
    // moto returns ListRoles documents as plain JSON where real IAM URL-encodes
    // them; the domain's parser accepts both, so the adapter passes them through.
    expect(decodeURIComponent(roles[0].trustPolicy)).toContain('system:serviceaccount:demo:a');
  });

  test('a crash between CreateRole and AttachRolePolicy is repaired by ensurePoliciesAttached', async () => {
    const { iam, adapter, handler } = client();
    const policyArn = await createAccessPolicy(iam, 'access');
    handler.crashAfter('CreateRole');
    await expect(adapter.createRole(spec({ policyArns: [policyArn] }))).rejects.toThrow(
      SimulatedCrash,
    );
    expect(await adapter.listAttachedPolicyArns('KubestashRole-0')).toEqual([]);
    expect(await adapter.ensurePoliciesAttached('KubestashRole-0', [policyArn])).toEqual([
      policyArn,
    ]);
    expect(await adapter.ensurePoliciesAttached('KubestashRole-0', [policyArn])).toEqual([]);
    expect(await adapter.listAttachedPolicyArns('KubestashRole-0')).toEqual([policyArn]);
  });

  test('creating a role whose name is taken says the view was stale, and changes nothing', async () => {
    const { adapter, iam } = client();
    await adapter.createRole(spec());
    await expect(
      adapter.createRole(spec({ trustPolicy: trust(['system:serviceaccount:demo:b']) })),
    ).rejects.toThrow(RoleAlreadyExistsError);
    const { Role: role } = await iam.send(new GetRoleCommand({ RoleName: 'KubestashRole-0' }));
    expect(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '')).toContain('demo:a');
  });

  test('an oversized trust policy fails as real IAM fails (moto itself does not enforce the quota)', async () => {
    const big = trust(
      Array.from({ length: 40 }, (_, i) => `system:serviceaccount:demo:sample-backup-${i}`),
    );
    // moto accepts it:
    await client().adapter.createRole(spec({ name: 'Unchecked-0', trustPolicy: big }));
    // with IAM's rule enforced, the adapter reports the quota IAM named:
    const { adapter, handler } = client({ trustPolicyQuota: 2048 });
    const error = await adapter.createRole(spec({ trustPolicy: big })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrustPolicyQuotaExceededError);
    expect(error).toMatchObject({ roleName: 'KubestashRole-0', quota: 2048 });
    // A quota refusal is final: it is not retried as if it were throttling.
    expect(handler.actions.filter((a) => a === 'CreateRole:limit-exceeded')).toHaveLength(1);
    await adapter.createRole(spec());
    await expect(adapter.updateTrustPolicy('KubestashRole-0', big)).rejects.toMatchObject({
      name: 'TrustPolicyQuotaExceededError',
      quota: 2048,
    });
  });

  test('throttling on one call in three is absorbed by the SDK retries', async () => {
    const { adapter, handler } = client({ throttleEvery: 3 });
    for (let i = 0; i < 6; i++) await adapter.createRole(spec({ name: `KubestashRole-${i}` }));
    await adapter.updateTrustPolicy('KubestashRole-0', trust(['system:serviceaccount:demo:z']));
    expect(await adapter.listRolesUnderPath('/kubestash-irsa/')).toHaveLength(6);
    expect(handler.actions.filter((a) => a.endsWith(':throttled')).length).toBeGreaterThanOrEqual(
      2,
    );
  });

  test('delete detaches first, and a role already gone is not an error', async () => {
    const { iam, adapter, handler } = client();
    const policyArn = await createAccessPolicy(iam, 'access');
    await adapter.createRole(spec({ policyArns: [policyArn] }));
    await adapter.deleteRole('KubestashRole-0');
    expect(handler.actions.filter((a) => a === 'DetachRolePolicy' || a === 'DeleteRole')).toEqual([
      'DetachRolePolicy',
      'DeleteRole',
    ]);
    expect(await adapter.listRolesUnderPath('/kubestash-irsa/')).toEqual([]);
    await expect(adapter.deleteRole('KubestashRole-0')).resolves.toBeUndefined();
  });

  test('tags and untags', async () => {
    const { adapter } = client();
    await adapter.createRole(spec());
    await adapter.tagRole('KubestashRole-0', [
      { key: 'kubestash-irsa.io/empty-since', value: '2026-11-22T00:00:00Z' },
    ]);
    expect((await adapter.getRoleTags('KubestashRole-0')).map((t) => t.key)).toContain(
      'kubestash-irsa.io/empty-since',
    );
    await adapter.untagRole('KubestashRole-0', ['kubestash-irsa.io/empty-since']);
    expect((await adapter.getRoleTags('KubestashRole-0')).map((t) => t.key)).not.toContain(
      'kubestash-irsa.io/empty-since',
    );
  });

  test('reads a seed with everything a clone copies', async () => {
    const { iam, adapter } = client();
    const policyArn = await createAccessPolicy(iam, 'access');
    await adapter.createRole(spec({ name: 'KubestashRole', path: '/', policyArns: [policyArn] }));
    const seed = await adapter.getSeedRole('KubestashRole');
    expect(seed).toMatchObject({
      name: 'KubestashRole',
      path: '/',
      arn: `arn:aws:iam::${MOTO_ACCOUNT}:role/KubestashRole`,
      maxSessionDurationSeconds: 7200,
      permissionsBoundaryArn: `arn:aws:iam::${MOTO_ACCOUNT}:policy/boundary`,
      attachedPolicyArns: [policyArn],
    });
    expect(seed.tags).toHaveLength(2);
  });
});
