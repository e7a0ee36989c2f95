/**
 * The adapter against moto's EKS, with the Pod Identity calls (which moto
 * lacks) played at the HTTP level by EksPodIdentityHandler as the EKS API
 * reference documents them: the SDK's real serializers, error parsing and
 * retries run.
 */
import { EksPodIdentityAdapter } from '../../../../lambda/adapters/eks/eks-pod-identity-adapter';
import {
  AssociationExistsError,
  AssociationQuotaExceededError,
} from '../../../../lambda/ports/pod-identity-port';
import { motoEksWithPodIdentity } from '../../../support/moto-eks';
import { motoForEachTest } from '../../../support/moto-for-jest';
import { MOTO_ACCOUNT } from '../../../support/moto-server';

const ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/PodIdentityRole`;
const moto = motoForEachTest();

const create = (serviceAccount: string, token = `t-${serviceAccount}`) => ({
  namespace: 'demo',
  serviceAccount,
  roleArn: ROLE,
  tags: { 'kubestash-irsa.io/seed': 'PodIdentityRole' },
  clientRequestToken: token,
});

describe('EksPodIdentityAdapter', () => {
  test('creates, lists with role, tags and time, and deletes', async () => {
    const now = new Date('2026-11-30T01:00:00.000Z');
    const { eks } = await motoEksWithPodIdentity(moto.endpoint, ['auto-cluster'], {
      now: () => now,
    });
    const adapter = new EksPodIdentityAdapter(eks);
    const created = await adapter.createAssociation('auto-cluster', create('sa-1'));
    expect(created).toMatchObject({
      namespace: 'demo',
      serviceAccount: 'sa-1',
      roleArn: ROLE,
      tags: { 'kubestash-irsa.io/seed': 'PodIdentityRole' },
      createdAt: now.toISOString(),
    });
    // A fresh adapter (a cold Lambda) learns the same from List + Describe.
    expect(await new EksPodIdentityAdapter(eks).listAssociations('auto-cluster')).toEqual([
      created,
    ]);
    expect(await adapter.deleteAssociation('auto-cluster', created.associationId)).toBe('deleted');
    expect(await adapter.deleteAssociation('auto-cluster', created.associationId)).toBe('gone');
    expect(await adapter.listAssociations('auto-cluster')).toEqual([]);
  }, 30000);

  test('pages past 100 associations, describing each only once in a warm adapter', async () => {
    const { eks, handler } = await motoEksWithPodIdentity(moto.endpoint, ['auto-cluster']);
    const adapter = new EksPodIdentityAdapter(eks);
    for (let i = 0; i < 130; i++)
      await adapter.createAssociation('auto-cluster', create(`sa-${i}`));
    const cold = new EksPodIdentityAdapter(eks);
    expect(await cold.listAssociations('auto-cluster')).toHaveLength(130);
    const describes = handler.count('Describe');
    expect(describes).toBe(130);
    expect(await cold.listAssociations('auto-cluster')).toHaveLength(130);
    expect(handler.count('Describe')).toBe(describes);
  }, 60000);

  test('a second association for one ServiceAccount is ResourceInUse; a retried token is not', async () => {
    const { eks, handler } = await motoEksWithPodIdentity(moto.endpoint, ['auto-cluster']);
    const adapter = new EksPodIdentityAdapter(eks);
    const first = await adapter.createAssociation('auto-cluster', create('sa-1', 'token-a'));
    // The same token again (a retry after a lost answer): EKS returns the first result.
    expect(await adapter.createAssociation('auto-cluster', create('sa-1', 'token-a'))).toEqual(
      first,
    );
    await expect(
      adapter.createAssociation('auto-cluster', create('sa-1', 'token-b')),
    ).rejects.toBeInstanceOf(AssociationExistsError);
    expect(handler.snapshot().size).toBe(1);
  }, 30000);

  test('a full cluster answers ResourceLimitExceeded, mapped to the quota error', async () => {
    const { eks } = await motoEksWithPodIdentity(moto.endpoint, ['auto-cluster'], { quota: 1 });
    const adapter = new EksPodIdentityAdapter(eks);
    await adapter.createAssociation('auto-cluster', create('sa-1'));
    await expect(adapter.createAssociation('auto-cluster', create('sa-2'))).rejects.toBeInstanceOf(
      AssociationQuotaExceededError,
    );
  }, 30000);

  test('an unknown cluster is ResourceNotFound, as EKS answers', async () => {
    const { eks } = await motoEksWithPodIdentity(moto.endpoint, ['auto-cluster']);
    await expect(
      new EksPodIdentityAdapter(eks).listAssociations('no-such-cluster'),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  }, 30000);
});
