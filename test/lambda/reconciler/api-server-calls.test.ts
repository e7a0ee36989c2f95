import fc from 'fast-check';
import { API_SERVER_CONCURRENCY } from '../../../lambda/ports/kubernetes-port';
import { onApiServers } from '../../../lambda/reconciler/api-server-calls';

const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('onApiServers', () => {
  test('answers in the order of the items, with never more than API_SERVER_CONCURRENCY calls in flight', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }),
        async (delays) => {
          let inFlight = 0;
          let most = 0;
          const out = await onApiServers(delays, async (ms) => {
            inFlight++;
            most = Math.max(most, inFlight);
            await tick(ms);
            inFlight--;
            return ms * 10;
          });
          expect(out).toEqual(delays.map((ms) => ms * 10));
          expect(most).toBeLessThanOrEqual(API_SERVER_CONCURRENCY);
          if (delays.length >= API_SERVER_CONCURRENCY) expect(most).toBe(API_SERVER_CONCURRENCY);
        },
      ),
      { numRuns: 30 },
    );
  });

  test('after the first failure no further item is started, and it rejects with that failure once the calls under way have ended', async () => {
    const started: number[] = [];
    let inFlight = 0;
    const items = Array.from({ length: 30 }, (_, i) => i);
    await expect(
      onApiServers(items, async (i) => {
        started.push(i);
        inFlight++;
        await tick(i === 2 ? 1 : 10);
        inFlight--;
        if (i === 2) throw new Error('the API server answered 500');
        return i;
      }),
    ).rejects.toThrow('the API server answered 500');
    // Nothing of the failed step is still writing when the caller learns of the failure.
    expect(inFlight).toBe(0);
    await tick(20);
    // The first eight were in flight when item 2 failed; at most a few more began before it did.
    expect(started.length).toBeLessThan(items.length);
    expect(Math.max(...started)).toBeLessThan(API_SERVER_CONCURRENCY * 2);
  });
});
