import { EksTokenCache } from '../../../../lambda/adapters/kubernetes/eks-token-cache';
import type { AwsCredentials } from '../../../../lambda/adapters/kubernetes/eks-token';

const T0 = Date.parse('2026-05-06T12:00:00Z');
const MINUTE = 60_000;

function setup(
  credentials: () => AwsCredentials = () => ({ accessKeyId: 'AK', secretAccessKey: 'SK' }),
) {
  let nowMs = T0;
  let resolved = 0;
  const cache = new EksTokenCache({
    clusterName: 'prod',
    region: 'us-east-1',
    credentials: async () => {
      resolved += 1;
      return credentials();
    },
    now: () => new Date(nowMs),
  });
  return {
    cache,
    advance: (ms: number) => {
      nowMs += ms;
    },
    resolved: () => resolved,
  };
}

describe('EksTokenCache', () => {
  test('hands out the same token until it is 10 minutes old, then a new one', async () => {
    const { cache, advance, resolved } = setup();
    const first = await cache.token();
    advance(10 * MINUTE - 1);
    expect(await cache.token()).toBe(first);
    expect(resolved()).toBe(1);
    advance(1);
    const second = await cache.token();
    expect(second).not.toBe(first);
    expect(resolved()).toBe(2);
  });

  test('signs a new token after invalidate()', async () => {
    const { cache, advance, resolved } = setup();
    const first = await cache.token();
    advance(1000);
    cache.invalidate();
    expect(await cache.token()).not.toBe(first);
    expect(resolved()).toBe(2);
  });

  test('concurrent callers share one signing', async () => {
    const { cache, resolved } = setup();
    const tokens = await Promise.all([cache.token(), cache.token(), cache.token()]);
    expect(new Set(tokens).size).toBe(1);
    expect(resolved()).toBe(1);
  });

  test('refreshes early when the signing credentials are about to expire', async () => {
    const { cache, advance, resolved } = setup(() => ({
      accessKeyId: 'ASIA',
      secretAccessKey: 'SK',
      sessionToken: 'ST',
      expiration: new Date(T0 + 4 * MINUTE),
    }));
    const first = await cache.token();
    advance(3 * MINUTE - 1); // one minute of margin before the credentials expire
    expect(await cache.token()).toBe(first);
    advance(1);
    await cache.token();
    expect(resolved()).toBe(2);
  });

  test('a failed signing is not cached', async () => {
    let fail = true;
    const cache = new EksTokenCache({
      clusterName: 'prod',
      region: 'us-east-1',
      credentials: async () => {
        if (fail) throw new Error('no credentials');
        return { accessKeyId: 'AK', secretAccessKey: 'SK' };
      },
    });
    await expect(cache.token()).rejects.toThrow('no credentials');
    fail = false;
    await expect(cache.token()).resolves.toMatch(/^k8s-aws-v1\./);
  });
});
