import { GateFlow } from './gate-flow';
import { startConnectedTestServer } from './kubernetes-test-server';
import { startMotoServer } from './moto-server';
import type { MotoServer } from './moto-server';
import type * as MotoServerModule from './moto-server';
import type * as TestServerModule from './kubernetes-test-server';

// The real ones, watched (and failed where a test says).
jest.mock('./moto-server', () => {
  const actual: typeof MotoServerModule = jest.requireActual('./moto-server');
  return { ...actual, startMotoServer: jest.fn(actual.startMotoServer) };
});
jest.mock('./kubernetes-test-server', () => {
  const actual: typeof TestServerModule = jest.requireActual('./kubernetes-test-server');
  return { ...actual, startConnectedTestServer: jest.fn(actual.startConnectedTestServer) };
});

/**
 * The harness itself: with the reconciler (and the gate) in their own threads,
 * as the bench runs them, GateFlow still releases Jobs, counts passes and
 * polls, and a start that fails partway leaves nothing running. The product's
 * behaviour is tested in-process in test/lambda/handlers/job-gate-flow.test.ts.
 */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('with the gate and the reconciler in threads, Jobs are released and passes and polls counted', async () => {
  const flow = await GateFlow.start({ gateThread: true, reconcilerThread: true });
  try {
    const first = 'thread-session-1778072138';
    expect((await flow.createSession(first)).gated).toBe(true);
    expect(await flow.drain()).toBe(1);
    expect(flow.suspended(first)).toBe(false);
    expect(flow.waitOf(first)).toBeGreaterThan(0);
    expect(flow.passes).toBe(1);
    // One poll brought the batch, one found the queue empty.
    expect(flow.receiveMs).toHaveLength(2);

    // Polling while Jobs are admitted stops once they are released.
    const names = ['thread-session-1778072439', 'thread-session-1778072740'];
    let admitted = false;
    const polling = flow.pollUntil(() => admitted && names.every((n) => !flow.suspended(n)));
    await Promise.all(names.map((n) => flow.createSession(n)));
    admitted = true;
    const batches = (await polling) + (await flow.drain());
    expect(batches).toBeGreaterThan(0);
    expect(flow.waits()).toHaveLength(3);
    expect(flow.passes).toBeGreaterThan(1);
    // The event source reads the queue once at a time.
    await expect(Promise.all([flow.drain(), flow.drain()])).rejects.toThrow(
      'already reading the queue',
    );
  } finally {
    await flow.stop();
  }
});

test('a start that fails partway stops the motos it had started', async () => {
  jest.mocked(startMotoServer).mockClear();
  jest
    .mocked(startConnectedTestServer)
    .mockRejectedValueOnce(new Error('the API server did not start'));
  await expect(GateFlow.start()).rejects.toThrow('the API server did not start');
  const motos = await Promise.all(
    jest.mocked(startMotoServer).mock.results.map((r) => r.value as Promise<MotoServer>),
  );
  expect(motos).toHaveLength(2);
  for (const moto of motos) expect(running(moto.pid)).toBe(false);
});
