/**
 * When an event for a seed needs a reconcile pass, and when a pass can wait.
 *
 * A pass is level-triggered: it reads Kubernetes and IAM afresh, so it answers
 * every event published before the state it read. EventBridge stamps each
 * event with its time to the second (`time`, RFC 3339 without fractions;
 * https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html),
 * so an event stamped second S was published before S + 1 s. Its cause (a
 * gated Job, which the API server stores only after the gate answered; a
 * ServiceAccount change) is visible within {@link SETTLE_MS} after that.
 *
 * So: a pass that starts at P answers every event stamped before
 * P − 1 s − SETTLE_MS; a later event of that kind is dropped without a pass.
 * A pass started for an event waits until the event's second is over and
 * settled (at most 1 s + SETTLE_MS), so it also answers every event of that
 * second. A flood of hints thus costs at most one pass per second it lasts
 * (plus one), however many hints it holds; a single event waits at most
 * 1 s + SETTLE_MS longer than before.
 */

/** Longer than the gate's hint bound (400 ms) plus the API server's write, and any clock skew. */
export const SETTLE_MS = 1_000;

const SECOND_MS = 1_000;

/**
 * The moment from which a pass answers an event stamped `eventTime` (epoch
 * ms, as parsed from `time`): its second is over and its cause is visible.
 */
export function answeredFrom(eventTime: number): number {
  return Math.floor(eventTime / SECOND_MS) * SECOND_MS + SECOND_MS + SETTLE_MS;
}

/**
 * The start of the last pass of each seed, and the rule that drops events it
 * answered. Kept in the handler's memory: a new Lambda environment starts
 * empty and runs one pass more, never one fewer.
 */
export class PassLedger {
  private readonly started = new Map<string, number>();

  /**
   * Whether a completed pass of `seed` already answered an event stamped
   * `eventTime`. An event without a time is never answered (it always gets a pass).
   */
  answered(seed: string, eventTime: number | undefined): boolean {
    const start = this.started.get(seed);
    return eventTime !== undefined && start !== undefined && answeredFrom(eventTime) <= start;
  }

  /**
   * How long to wait (ms) before a pass at `now` answers every event in
   * `eventTimes` (those with a time); 0 when it already would.
   */
  waitBefore(now: number, eventTimes: readonly (number | undefined)[]): number {
    const times = eventTimes.filter((t): t is number => t !== undefined);
    if (times.length === 0) return 0;
    return Math.max(0, answeredFrom(Math.max(...times)) - now);
  }

  /** Records that a pass of `seed` that started at `start` (epoch ms) completed. */
  completed(seed: string, start: number): void {
    this.started.set(seed, Math.max(start, this.started.get(seed) ?? start));
  }
}
