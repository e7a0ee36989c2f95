import { HttpsTransport } from '../../../../lambda/adapters/kubernetes/https-transport';
import { KubernetesHttpClient } from '../../../../lambda/adapters/kubernetes/kubernetes-http-client';
import { KubernetesUnreachableError } from '../../../../lambda/ports/kubernetes-port';
import { CONNECT_TIMEOUT_CODE } from '../../../../lambda/adapters/kubernetes/kubernetes-transport';
import { sharedTestPki } from '../../../support/kubernetes-test-server';
import { SilentServer } from '../../../support/silent-server';

describe('HttpsTransport connect timeout (loopback only)', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await new SilentServer().start();
  });
  afterAll(() => silent.stop());

  test('a server that never completes the TLS handshake fails at the connect timeout, not the request timeout', async () => {
    const { caPem } = await sharedTestPki();
    const transport = new HttpsTransport({ caPem });
    const started = Date.now();
    const sent = transport.send({
      method: 'GET',
      url: new URL(`${silent.url}/api/v1/namespaces/demo/serviceaccounts`),
      headers: {},
      timeoutMs: 20_000,
      connectTimeoutMs: 300,
    });
    await expect(sent).rejects.toMatchObject({ code: CONNECT_TIMEOUT_CODE });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5_000);
    transport.close();
  });

  test('without a connect timeout only the request timeout applies', async () => {
    const { caPem } = await sharedTestPki();
    const transport = new HttpsTransport({ caPem });
    const sent = transport.send({
      method: 'GET',
      url: new URL(`${silent.url}/`),
      headers: {},
      timeoutMs: 400,
    });
    await expect(sent).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    transport.close();
  });
});

describe('KubernetesHttpClient against an API server it cannot connect to', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await new SilentServer().start();
  });
  afterAll(() => silent.stop());

  function client(now: () => Date = () => new Date()) {
    return sharedTestPki().then(
      ({ caPem }) =>
        new KubernetesHttpClient({
          connection: async () => ({ server: silent.url, caPem }),
          tokens: { token: async () => 'k8s-aws-v1.t', invalidate: () => {} },
          connectTimeoutMs: 200,
          timeoutMs: 20_000,
          retry: { baseDelayMs: 1 },
          now,
        }),
    );
  }

  test('gives up after two connect attempts with KubernetesUnreachableError naming the likely cause', async () => {
    const c = await client();
    const before = silent.connections;
    const started = Date.now();
    const error = await c.listServiceAccounts('demo').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubernetesUnreachableError);
    expect(error).toMatchObject({
      code: CONNECT_TIMEOUT_CODE,
      attempts: 2,
      likelyCause: expect.stringContaining('does not run in the cluster network'),
    });
    expect(silent.connections - before).toBe(2);
    // Two 200 ms connect timeouts, far below the 20 s request timeout (or 4 of them).
    expect(Date.now() - started).toBeLessThan(5_000);
    await c.close();
  });

  test('then answers at once without connecting, until unreachableForMs has passed', async () => {
    let now = Date.parse('2026-11-29T12:00:00Z');
    const c = await client(() => new Date(now));
    await expect(c.listServiceAccounts('demo')).rejects.toBeInstanceOf(KubernetesUnreachableError);
    const before = silent.connections;
    // No new connection at all: the answer comes from what the client remembers.
    await expect(c.getServiceAccount('demo', 'x')).rejects.toThrow(
      /not tried: the API server was unreachable/,
    );
    expect(silent.connections).toBe(before);
    now += 60_000;
    await expect(c.getServiceAccount('demo', 'x')).rejects.toThrow(/could not connect/);
    expect(silent.connections).toBe(before + 2);
    await c.close();
  });
});
