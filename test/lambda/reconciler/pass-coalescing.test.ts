import fc from 'fast-check';
import {
  IDLE_MS,
  PassLedger,
  SETTLE_MS,
  answeredBy,
  answeredFrom,
} from '../../../lambda/reconciler/pass-coalescing';

const T0 = Date.parse('2026-11-29T22:00:00Z');

describe('PassLedger', () => {
  test('an event is answered only by a pass that started after its second was over and settled', () => {
    const ledger = new PassLedger();
    expect(ledger.answered('s', { time: T0 })).toBe(false);
    ledger.completed('s', T0 + 1_000 + SETTLE_MS - 1);
    expect(ledger.answered('s', { time: T0 })).toBe(false);
    ledger.completed('s', T0 + 1_000 + SETTLE_MS);
    expect(ledger.answered('s', { time: T0 })).toBe(true);
    expect(ledger.answered('s', { time: T0 + 999 })).toBe(true);
    expect(ledger.answered('s', { time: T0 + 1_000 })).toBe(false);
    expect(ledger.answered('other', { time: T0 })).toBe(false);
    expect(ledger.answered('s', { time: undefined })).toBe(false);
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
    expect(ledger.answered('s', { time: T0 + 7_000 })).toBe(true);
  });

  // A FIFO group played out as the handler plays it, in the worst case: no
  // pass ever sees a hinted Job (a flood of forged hints). Events arrive in
  // time order, the consumer takes batches of ten, an idle seed runs at once
  // and then, for what that pass could not answer, waits as told; each pass
  // lasts `pass` ms.
  function play(times: readonly number[], pass: number) {
    const ledger = new PassLedger();
    let now = times[0];
    const passes: number[] = [];
    const run = () => {
      const start = now;
      passes.push(start);
      ledger.completed('s', start);
      now += pass;
      return start;
    };
    for (let i = 0; i < times.length; i += 10) {
      const batch = times.slice(i, i + 10);
      now = Math.max(now, batch[batch.length - 1]);
      let pending = batch.filter((t) => !ledger.answered('s', { time: t }));
      if (pending.length === 0) continue;
      if (ledger.runsAtOnce('s', now)) {
        const start = run();
        pending = pending.filter((t) => !answeredBy({ time: t }, start, new Set()));
        ledger.answeredAll('s', pending.length === 0);
        if (pending.length === 0) continue;
      }
      now += ledger.waitBefore(now, pending);
      run();
    }
    return passes;
  }

  test('property: nothing lost (every event has a pass that answers it), and at most two passes per second that holds events, plus one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 1_000 }),
        fc.integer({ min: 1, max: 3_000 }),
        (offsets, pass) => {
          const times = offsets.map((o) => T0 + o).sort((a, b) => a - b);
          const passes = play(times, pass);
          for (const t of times) expect(passes.some((p) => p >= answeredFrom(t))).toBe(true);
          const seconds = new Set(times.map((t) => Math.floor(t / 1_000))).size;
          expect(passes.length).toBeLessThanOrEqual(2 * seconds + 1);
        },
      ),
    );
  });

  test('property: a flood (events closer together than the idle time) costs at most one pass per second it lasts, plus two', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: IDLE_MS - 1 }), { minLength: 1, maxLength: 1_000 }),
        fc.integer({ min: 1, max: 3_000 }),
        (gaps, pass) => {
          let t = T0;
          const times = gaps.map((g) => (t += g));
          const passes = play(times, pass);
          for (const e of times) expect(passes.some((p) => p >= answeredFrom(e))).toBe(true);
          const seconds = Math.floor(times[times.length - 1] / 1_000) - Math.floor(T0 / 1_000) + 1;
          expect(passes.length).toBeLessThanOrEqual(seconds + 2);
        },
      ),
    );
  });

  test('answeredBy: a hint whose Job the pass saw, a resync, an event without a time, or one old enough', () => {
    const seen = new Set(['prod/demo/job-a']);
    expect(answeredBy({ time: T0, job: 'prod/demo/job-a' }, T0, seen)).toBe(true);
    expect(answeredBy({ time: T0, job: 'prod/demo/job-b' }, T0, seen)).toBe(false);
    expect(answeredBy({ time: T0, resync: true }, T0, seen)).toBe(true);
    expect(answeredBy({}, T0, seen)).toBe(true);
    expect(answeredBy({ time: T0 }, T0 + 1_000 + SETTLE_MS, seen)).toBe(true);
    expect(answeredBy({ time: T0 }, T0 + 1_000 + SETTLE_MS - 1, seen)).toBe(false);
  });

  test('runsAtOnce and remember: at once while passes answer all they were run for, else after one idle window; a remembered id is answered', () => {
    const ledger = new PassLedger();
    expect(ledger.runsAtOnce('s', T0)).toBe(true);
    ledger.completed('s', T0);
    ledger.answeredAll('s', true);
    expect(ledger.runsAtOnce('s', T0 + 1)).toBe(true);
    ledger.answeredAll('s', false);
    expect(ledger.runsAtOnce('s', T0 + IDLE_MS - 1)).toBe(false);
    expect(ledger.runsAtOnce('s', T0 + IDLE_MS)).toBe(true);
    expect(ledger.answered('s', { time: T0 + 60_000, id: 'e-1' })).toBe(false);
    ledger.remember('s', ['e-1', undefined]);
    expect(ledger.answered('s', { time: T0 + 60_000, id: 'e-1' })).toBe(true);
    expect(ledger.answered('other', { time: T0 + 60_000, id: 'e-1' })).toBe(false);
  });

  test('a hint for a Job the last pass saw carrying the gate mark is answered, whatever its time', () => {
    const ledger = new PassLedger();
    ledger.completed('s', T0, new Set(['prod/demo/job-a']));
    expect(ledger.answered('s', { time: T0 + 5_000, job: 'prod/demo/job-a' })).toBe(true);
    expect(ledger.answered('s', { time: T0 + 5_000, job: 'prod/demo/job-b' })).toBe(false);
    // An older pass completing late does not replace what the newer one saw.
    ledger.completed('s', T0 - 1_000, new Set());
    expect(ledger.answered('s', { time: T0 + 5_000, job: 'prod/demo/job-a' })).toBe(true);
  });
});
