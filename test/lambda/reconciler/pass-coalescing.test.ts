import fc from 'fast-check';
import { PassLedger, SETTLE_MS, answeredFrom } from '../../../lambda/reconciler/pass-coalescing';

const T0 = Date.parse('2026-11-29T22:00:00Z');

describe('PassLedger', () => {
  test('an event is answered only by a pass that started after its second was over and settled', () => {
    const ledger = new PassLedger();
    expect(ledger.answered('s', T0)).toBe(false);
    ledger.completed('s', T0 + 1_000 + SETTLE_MS - 1);
    expect(ledger.answered('s', T0)).toBe(false);
    ledger.completed('s', T0 + 1_000 + SETTLE_MS);
    expect(ledger.answered('s', T0)).toBe(true);
    expect(ledger.answered('s', T0 + 999)).toBe(true);
    expect(ledger.answered('s', T0 + 1_000)).toBe(false);
    expect(ledger.answered('other', T0)).toBe(false);
    expect(ledger.answered('s', undefined)).toBe(false);
  });

  test('waitBefore waits for the newest event of the batch, never for an old one', () => {
    const ledger = new PassLedger();
    expect(ledger.waitBefore(T0 + 300, [T0, T0 + 200, undefined])).toBe(1_000 + SETTLE_MS - 300);
    expect(ledger.waitBefore(T0 + 60_000, [T0])).toBe(0);
    expect(ledger.waitBefore(T0, [undefined])).toBe(0);
  });

  test('a pass started at the end of a slower one never moves the mark back', () => {
    const ledger = new PassLedger();
    ledger.completed('s', T0 + 10_000);
    ledger.completed('s', T0 + 5_000);
    expect(ledger.answered('s', T0 + 7_000)).toBe(true);
  });

  // A FIFO group played out: events arrive in time order, the consumer takes
  // batches of ten, waits as told, and each pass lasts `pass` ms.
  function play(times: readonly number[], pass: number) {
    const ledger = new PassLedger();
    let now = times[0];
    const passes: number[] = [];
    for (let i = 0; i < times.length; i += 10) {
      const batch = times.slice(i, i + 10);
      now = Math.max(now, batch[batch.length - 1]);
      if (batch.every((t) => ledger.answered('s', t))) continue;
      now += ledger.waitBefore(now, batch);
      passes.push(now);
      ledger.completed('s', now);
      now += pass;
    }
    return passes;
  }

  test('property: nothing lost (every event has a pass that answers it) and a flood costs at most one pass per second it lasts, plus one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 1_000 }),
        fc.integer({ min: 1, max: 3_000 }),
        (offsets, pass) => {
          const times = offsets.map((o) => T0 + o).sort((a, b) => a - b);
          const passes = play(times, pass);
          for (const t of times) expect(passes.some((p) => p >= answeredFrom(t))).toBe(true);
          const seconds = new Set(times.map((t) => Math.floor(t / 1_000))).size;
          expect(passes.length).toBeLessThanOrEqual(seconds + 1);
        },
      ),
    );
  });
});
