import fc from 'fast-check';
import {
  LOOK_INTERVAL_MS,
  RETRY_UNREACHABLE_MS,
  answerHints,
} from '../../../lambda/reconciler/hint-watch';
import { PassLedger, answeredFrom } from '../../../lambda/reconciler/pass-coalescing';
import type { QueuedEvent } from '../../../lambda/reconciler/pass-coalescing';

const T0 = Date.parse('2026-11-30T06:00:00Z');
const SEED = 's';

/** A Job the gate held: stored at `storedAt` (epoch ms); `releasable` once a pass judges it. */
interface WorldJob {
  readonly key: string;
  readonly storedAt: number;
  readonly releasable: boolean;
}

/**
 * The seed's cluster on a virtual clock, as the handler meets it: a pass
 * lists the held Jobs stored by its start, judges each (releasing those it
 * can) and takes `passMs`; a look takes `lookMs` (30) and answers with the held
 * Jobs stored when it was sent (the worst moment the API server may read
 * them at). With `gate: false` a pass lists nothing (no gate configured).
 */
function world(
  jobs: readonly WorldJob[],
  opts: { passMs?: number; lookMs?: number; gate?: boolean; complete?: boolean } = {},
) {
  let now = T0;
  const released = new Set<string>();
  const judged = new Set<string>();
  const passStarts: number[] = [];
  const ledger = new PassLedger();
  const heldAt = (t: number) =>
    new Set(jobs.filter((j) => j.storedAt <= t && !released.has(j.key)).map((j) => j.key));
  const look = () => {
    const sent = now;
    now += opts.lookMs ?? 30;
    return heldAt(sent);
  };
  const deps = {
    ledger,
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    pass: async (start: number) => {
      passStarts.push(start);
      const marked = heldAt(start);
      for (const key of marked) {
        judged.add(key);
        if (jobs.find((j) => j.key === key)?.releasable === true) released.add(key);
      }
      now += opts.passMs ?? 150;
      ledger.completed(
        SEED,
        start,
        opts.gate === false
          ? undefined
          : { marked, heldNow: async () => look(), complete: opts.complete ?? true },
      );
    },
  };
  return {
    deps,
    ledger,
    judged,
    passStarts,
    at: (t: number) => (now = t),
    now: () => now,
  };
}

const hint = (time: number): QueuedEvent => ({ kind: 'jobGated', time });

describe('answerHints', () => {
  test('in a new environment the first step is a pass; a Job stored after it, within its second, gets the next look’s pass; then looks until the second is settled', async () => {
    const w = world([
      { key: 'a', storedAt: T0 + 10, releasable: true },
      { key: 'b', storedAt: T0 + 400, releasable: true },
    ]);
    w.at(T0 + 50);
    const cost = await answerHints(w.deps, SEED, [hint(T0)]);
    // The first pass ends at +200; looks at +200, +330 and +460 (each takes 30 ms): b is found at +460.
    expect(w.passStarts).toEqual([T0 + 50, T0 + 490]);
    expect(w.judged).toEqual(new Set(['a', 'b']));
    expect(cost.passes).toBe(2);
    // Looks every 100 ms until the look at or after the second is over and settled.
    expect(w.now()).toBeGreaterThanOrEqual(answeredFrom(T0));
    expect(w.now()).toBeLessThan(answeredFrom(T0) + LOOK_INTERVAL_MS);
    expect(w.ledger.answered(SEED, hint(T0 + 999))).toBe(true);
  });

  test('a flood of hints for Jobs that do not exist costs looks and no pass once a pass has run here', async () => {
    const w = world([]);
    await w.deps.pass(T0 - 5_000);
    w.at(T0 + 300);
    const hints = Array.from({ length: 1_000 }, (_, i) => hint(T0 + (i % 3) * 1_000));
    const cost = await answerHints(w.deps, SEED, hints);
    expect(cost.passes).toBe(0);
    // From T0+300 until T0+2s+SETTLE, one look per 100 ms.
    expect(cost.looks).toBeLessThanOrEqual(
      Math.ceil((answeredFrom(T0 + 2_000) - T0 - 300) / 100) + 1,
    );
    for (const h of hints) expect(w.ledger.answered(SEED, h)).toBe(true);
  });

  test('a Job a pass judged but could not release (its ServiceAccount is missing) costs no further pass', async () => {
    const w = world([{ key: 'waiting', storedAt: T0 + 10, releasable: false }]);
    w.at(T0 + 50);
    const cost = await answerHints(w.deps, SEED, [hint(T0)]);
    expect(cost.passes).toBe(1);
    expect(w.judged).toEqual(new Set(['waiting']));
  });

  test('without a gate a pass lists no Jobs: one pass at once, one once the second is settled', async () => {
    const w = world([], { gate: false });
    w.at(T0 + 50);
    const cost = await answerHints(w.deps, SEED, [hint(T0)]);
    expect(w.passStarts).toEqual([T0 + 50, answeredFrom(T0)]);
    expect(cost.looks).toBe(0);
  });

  test('a held Job no pass manages to judge (it is re-created each time) ends the loop at the deadline: a pass then answers by time', async () => {
    const w = world([]);
    await w.deps.pass(T0 - 5_000);
    // Every look finds a Job the last pass did not judge.
    w.deps.ledger.completed(SEED, T0 - 5_000, {
      marked: new Set(),
      heldNow: async () => new Set([`x-${w.now()}`]),
      complete: true,
    });
    const pass = w.deps.pass;
    const deps = {
      ...w.deps,
      pass: async (start: number) => {
        await pass(start);
        w.deps.ledger.completed(SEED, start, {
          marked: new Set(),
          heldNow: async () => new Set([`x-${w.now()}`]),
          complete: true,
        });
      },
    };
    w.at(T0 + 50);
    const cost = await answerHints(deps, SEED, [hint(T0)]);
    expect(w.passStarts[w.passStarts.length - 1]).toBeGreaterThanOrEqual(answeredFrom(T0));
    // One pass per pass-and-interval until the deadline, plus the last one.
    expect(cost.passes).toBeLessThanOrEqual(Math.ceil((answeredFrom(T0) - T0) / (150 + 100)) + 1);
  });

  test('a look that fails (the API server answered 500 after its retries) does not reject: a pass now, and one once the second is settled, answer the hint', async () => {
    const w = world([]);
    await w.deps.pass(T0 - 5_000);
    w.deps.ledger.completed(SEED, T0 - 5_000, {
      marked: new Set(),
      heldNow: async () => {
        throw new Error('the API server answered 500');
      },
      complete: true,
    });
    w.at(T0 + 50);
    const cost = await answerHints(w.deps, SEED, [hint(T0)]);
    expect(cost.lookFailure).toEqual(new Error('the API server answered 500'));
    expect(w.passStarts.slice(1)).toEqual([T0 + 50, answeredFrom(T0)]);
    expect(w.ledger.answered(SEED, hint(T0))).toBe(true);
  });

  test('a pass that could not reach one of the seed’s clusters: the looks cover the clusters it reached, and a hint brings a pass to try again only once that pass is a minute old', async () => {
    // A new environment: its first step is a pass, which misses a cluster; then looks, no second pass.
    const w = world([{ key: 'a', storedAt: T0 + 10, releasable: false }], { complete: false });
    w.at(T0 + 50);
    const first = await answerHints(w.deps, SEED, [hint(T0)]);
    expect(first.passes).toBe(1);
    expect(first.looks).toBeGreaterThan(0);
    expect(w.ledger.answered(SEED, hint(T0))).toBe(true);
    // Within the minute the client remembers the cluster as unreachable: looks only.
    w.at(T0 + 30_000);
    expect((await answerHints(w.deps, SEED, [hint(T0 + 30_000)])).passes).toBe(0);
    // A minute after the pass: a pass first, in case the cluster is back.
    w.at(T0 + 50 + RETRY_UNREACHABLE_MS);
    const later = await answerHints(w.deps, SEED, [hint(T0 + 50 + RETRY_UNREACHABLE_MS)]);
    expect(later.passes).toBe(1);
    expect(w.passStarts).toEqual([T0 + 50, T0 + 50 + RETRY_UNREACHABLE_MS]);
  });

  test('property: nothing lost (every held Job whose hint is answered was judged by a pass), and passes bounded by the time new Jobs keep appearing', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Jobs: when each was hinted (ms after T0) and how long the API server took to store it.
        fc.array(
          fc.record({
            hinted: fc.integer({ min: 0, max: 3_000 }),
            storeDelay: fc.integer({ min: 0, max: 400 }),
            releasable: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 0, max: 1_500 }),
        fc.boolean(),
        async (specs, passMs, lookMs, deliveredAfter, warm) => {
          const jobs = specs.map((j, i) => ({
            key: `job-${i}`,
            storedAt: T0 + j.hinted + j.storeDelay,
            releasable: j.releasable,
          }));
          const w = world(jobs, { passMs, lookMs });
          if (warm) await w.deps.pass(T0 - 10_000);
          // The message of each second that holds a hint (the queue keeps one per second).
          const seconds = [
            ...new Set(specs.map((j) => Math.floor((T0 + j.hinted) / 1_000) * 1_000)),
          ];
          const hints = seconds.length === 0 ? [hint(T0)] : seconds.map(hint);
          const last = Math.max(...hints.map((h) => h.time ?? 0));
          w.at(Math.max(w.now(), last + deliveredAfter));
          const startedAt = w.now();
          const cost = await answerHints(w.deps, SEED, hints);
          for (const j of specs.map((s, i) => ({ ...s, key: `job-${i}` }))) {
            expect(w.judged.has(j.key)).toBe(true);
          }
          for (const h of hints) expect(w.ledger.answered(SEED, h)).toBe(true);
          // A pass needs a new held Job (or is the first here, or the one at the deadline).
          const deadline = Math.max(...hints.map((h) => answeredFrom(h.time ?? 0)));
          const window = Math.max(0, deadline - startedAt);
          expect(cost.passes).toBeLessThanOrEqual(
            Math.min(jobs.length + 2, Math.ceil(window / (passMs + LOOK_INTERVAL_MS)) + 2),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
