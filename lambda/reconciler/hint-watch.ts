import { answeredFrom } from './pass-coalescing';
import type { PassLedger, QueuedEvent } from './pass-coalescing';

/**
 * How often (ms) the handler looks at the Jobs the gate holds while a hint's
 * second is not yet over and settled: one LIST of KubeStash's Jobs per cluster
 * and namespace of the seed. A Job stored between two looks waits at most
 * this long for the pass that releases it.
 */
export const LOOK_INTERVAL_MS = 100;

/**
 * How long after a pass that could not reach one of the seed's clusters the
 * next hint brings a pass to try it again (ms). The Kubernetes client answers
 * for an unreachable cluster from memory for as long
 * (`unreachableForMs` in kubernetes-http-client.ts), so a pass sooner would
 * not reach it either; meanwhile the looks cover the clusters it did reach.
 */
export const RETRY_UNREACHABLE_MS = 60_000;

export interface HintWatchDeps {
  readonly ledger: PassLedger;
  /** Epoch ms. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Runs one pass of the seed that starts at `start` (epoch ms); the pass records itself in the ledger. */
  readonly pass: (start: number) => Promise<void>;
}

/** What answering a seed's hints cost. */
export interface HintWatchCost {
  readonly passes: number;
  /** Looks at the held Jobs (each one LIST per cluster and namespace). */
  readonly looks: number;
  /** Why looking stopped early and a pass after the wait answered the hints instead, if it did. */
  readonly lookFailure?: unknown;
}

/**
 * Answers `hints` (Job Gated messages of `seed` that carry a time, each
 * standing for every hint of its second; the caller runs a pass for one
 * without a time) with as few passes as the truth allows. Each hint names a Job
 * the gate held, which the API server stores within its second plus
 * SETTLE_MS (pass-coalescing.ts). So the handler looks at the Jobs the gate
 * holds every {@link LOOK_INTERVAL_MS}: a held Job the last pass did not
 * judge (by uid: one re-created under its name counts as new) gets a pass at
 * once, which releases it or tells it why it waits; once a look taken after
 * the last hint's second is over and settled finds none, every hint is
 * answered, without a pass of its own. A flood of hints for Jobs that do not
 * exist thus costs looks, not passes.
 *
 * A look proves nothing when no pass here listed the gate's Jobs (a new
 * Lambda environment, or no gate), or once a look failed: then the first step
 * is a pass, and the hints are answered by a pass that starts once their
 * seconds are settled (the rule for every other event). When the last pass
 * could not reach one of the seed's clusters, the looks cover the clusters it
 * reached (no pass could judge the others' Jobs either), and a hint brings a
 * pass first only when that pass is {@link RETRY_UNREACHABLE_MS} old. So
 * the loop ends: it runs passes only while new held Jobs keep appearing before
 * the deadline, each after the last one ended and {@link LOOK_INTERVAL_MS}
 * went by, plus at most one after it.
 *
 * Rejects with the error of a pass: the messages return to the queue, and the
 * next delivery starts over. A failed look does not reject (it is reported in
 * the cost): a pass tolerates an unreachable cluster, and so does the watch.
 */
export async function answerHints(
  deps: HintWatchDeps,
  seed: string,
  hints: readonly QueuedEvent[],
): Promise<HintWatchCost> {
  const { ledger, now, sleep } = deps;
  const timed = hints.filter((h): h is QueuedEvent & { time: number } => h.time !== undefined);
  const deadline = Math.max(...timed.map((h) => answeredFrom(h.time)));
  let passes = 0;
  let looks = 0;
  let lookFailure: { readonly error: unknown } | undefined;
  const pass = async () => {
    passes++;
    await deps.pass(now());
  };
  while (!timed.every((h) => ledger.answered(seed, h))) {
    const gate = ledger.gateJobsOf(seed);
    const lastPass = ledger.lastPassStart(seed) ?? Number.NEGATIVE_INFINITY;
    if (gate?.complete === false && passes === 0 && now() - lastPass >= RETRY_UNREACHABLE_MS) {
      // A cluster the last pass could not reach may be back: a pass finds out (and judges its Jobs).
      await pass();
      continue;
    }
    if (gate === undefined || lookFailure !== undefined) {
      // Nothing to look at: a pass now, and if that does not do, one once the seconds are settled.
      // A timer may fire a little early: wait until the deadline has really come.
      if (passes > 0) while (now() < deadline) await sleep(deadline - now());
      await pass();
      continue;
    }
    const at = now();
    let held: ReadonlySet<string>;
    try {
      held = await gate.heldNow();
      looks++;
    } catch (error) {
      lookFailure = { error };
      continue;
    }
    if ([...held].some((key) => !gate.marked.has(key))) {
      await pass();
    } else {
      ledger.looked(seed, at);
      if (at >= deadline) break;
    }
    await sleep(Math.min(LOOK_INTERVAL_MS, Math.max(0, deadline - now())));
  }
  return {
    passes,
    looks,
    ...(lookFailure === undefined ? {} : { lookFailure: lookFailure.error }),
  };
}
