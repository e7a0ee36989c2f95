import fc from 'fast-check';
import {
  IDLE_MS,
  PassLedger,
  SETTLE_MS,
  answeredBy,
  answeredFrom,
} from '../../../lambda/reconciler/pass-coalescing';

const T0 = Date.parse('2026-11-29T22:00:00Z');
const SA = 'serviceAccountChanged' as const;

const NO_JOBS = {
  marked: new Set<string>(),
  heldNow: async () => new Set<string>(),
  complete: true,
};

describe('PassLedger', () => {
  test('an event is answered only by a pass that started after its second was over and settled', () => {
    const ledger = new PassLedger();
    expect(ledger.answered('s', { kind: SA, time: T0 })).toBe(false);
    ledger.completed('s', T0 + 1_000 + SETTLE_MS - 1);
    expect(ledger.answered('s', { kind: SA, time: T0 })).toBe(false);
    ledger.completed('s', T0 + 1_000 + SETTLE_MS);
    expect(ledger.answered('s', { kind: SA, time: T0 })).toBe(true);
    expect(ledger.answered('s', { kind: SA, time: T0 + 999 })).toBe(true);
    expect(ledger.answered('s', { kind: SA, time: T0 + 1_000 })).toBe(false);
    expect(ledger.answered('other', { kind: SA, time: T0 })).toBe(false);
    expect(ledger.answered('s', { kind: SA, time: undefined })).toBe(false);
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
    expect(ledger.answered('s', { kind: SA, time: T0 + 7_000 })).toBe(true);
  });

  // A FIFO group of events other than hints played out as the handler plays it (hints are
  // hint-watch.ts's; see its tests). Events arrive in
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
      let pending = batch.filter((t) => !ledger.answered('s', { kind: SA, time: t }));
      if (pending.length === 0) continue;
      if (ledger.runsAtOnce('s', now)) {
        const start = run();
        pending = pending.filter((t) => !answeredBy({ kind: SA, time: t }, start));
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

  test('answeredBy: a resync, an event without a time, or one old enough', () => {
    expect(answeredBy({ kind: 'resync', time: T0 }, T0)).toBe(true);
    expect(answeredBy({ kind: SA }, T0)).toBe(true);
    expect(answeredBy({ kind: 'jobGated', time: T0 }, T0)).toBe(false);
    expect(answeredBy({ kind: SA, time: T0 }, T0 + 1_000 + SETTLE_MS)).toBe(true);
    expect(answeredBy({ kind: SA, time: T0 }, T0 + 1_000 + SETTLE_MS - 1)).toBe(false);
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
    expect(ledger.answered('s', { kind: SA, time: T0 + 60_000, id: 'e-1' })).toBe(false);
    ledger.remember('s', ['e-1', undefined]);
    expect(ledger.answered('s', { kind: SA, time: T0 + 60_000, id: 'e-1' })).toBe(true);
    expect(ledger.answered('other', { kind: SA, time: T0 + 60_000, id: 'e-1' })).toBe(false);
  });

  test('a look that found every held Job judged answers the hints of every second settled before it, and only hints', () => {
    const ledger = new PassLedger();
    ledger.completed('s', T0, NO_JOBS);
    expect(ledger.gateJobsOf('s')).toBe(NO_JOBS);
    ledger.looked('s', T0 + 1_000 + SETTLE_MS);
    expect(ledger.answered('s', { kind: 'jobGated', time: T0 + 999 })).toBe(true);
    expect(ledger.answered('s', { kind: 'jobGated', time: T0 + 1_000 })).toBe(false);
    // A ServiceAccount change is not a held Job: only a pass answers it.
    expect(ledger.answered('s', { kind: SA, time: T0 })).toBe(false);
    // An older look recorded late never moves the mark back.
    ledger.looked('s', T0);
    expect(ledger.answered('s', { kind: 'jobGated', time: T0 + 999 })).toBe(true);
  });

  test("the gate's Jobs are those of the latest-starting pass; a pass without a gate forgets them", () => {
    const ledger = new PassLedger();
    const newer = { ...NO_JOBS, marked: new Set(['prod/demo/job-a/uid-1']) };
    ledger.completed('s', T0, newer);
    ledger.completed('s', T0 - 1_000, NO_JOBS);
    expect(ledger.gateJobsOf('s')).toBe(newer);
    ledger.completed('s', T0 + 1_000);
    expect(ledger.gateJobsOf('s')).toBeUndefined();
  });
});
