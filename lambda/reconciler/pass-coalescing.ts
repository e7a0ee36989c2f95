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
 * (plus one), however many hints it holds.
 *
 * A seed that is idle (no pass started within the last {@link IDLE_MS}), or
 * whose last such pass answered everything, does not wait: its pass starts
 * at once, since most events' causes are visible by the time the event is
 * delivered. That pass answers an event when its own reading proves it
 * ({@link answeredBy}): a Job Gated hint whose Job it saw carrying the gate's
 * mark, a resync, or an event old enough for the rule above. Only the events
 * it could not answer cost a second pass, after the usual wait, and from then
 * on the seed waits until it is idle again. So a Job admitted on its own is
 * released by one pass without waiting, and a flood still costs one pass per
 * second it lasts, plus two.
 */

/** Longer than the gate's hint bound (400 ms) plus the API server's write, and any clock skew. */
export const SETTLE_MS = 1_000;

const SECOND_MS = 1_000;

/** Event ids remembered as answered: SQS redelivers within its visibility timeout, long before this many more. */
const REMEMBERED = 10_000;

/**
 * A seed whose last pass started this long ago (or never) is idle: its next
 * pass starts at once. One answer window (1 s + SETTLE_MS), so a flood, whose
 * passes follow each other closer than that, keeps waiting and coalescing.
 */
export const IDLE_MS = SECOND_MS + SETTLE_MS;

/** What the handler read of one queued event: enough to tell which pass answers it. */
export interface QueuedEvent {
  /** EventBridge's `time` (epoch ms), undefined when absent or unreadable. */
  readonly time?: number;
  /** EventBridge's `id`; a redelivered message carries the same one. */
  readonly id?: string;
  /** `cluster/namespace/job` of a Job Gated hint. */
  readonly job?: string;
  /** A resync asks for any pass after it, and names no object to wait for. */
  readonly resync?: boolean;
}

/**
 * Whether a pass that started at `start` (epoch ms) and saw the gate's mark
 * on the Jobs in `markedJobs` (`cluster/namespace/name`) answered `event`.
 */
export function answeredBy(
  event: QueuedEvent,
  start: number,
  markedJobs: ReadonlySet<string>,
): boolean {
  // A resync names nothing to wait for; an event without a time gives nothing to wait by.
  if (event.resync === true || event.time === undefined) return true;
  if (event.job !== undefined && markedJobs.has(event.job)) return true;
  return answeredFrom(event.time) <= start;
}

/**
 * The moment from which a pass answers an event stamped `eventTime` (epoch
 * ms, as parsed from `time`): its second is over and its cause is visible.
 */
export function answeredFrom(eventTime: number): number {
  return Math.floor(eventTime / SECOND_MS) * SECOND_MS + SECOND_MS + SETTLE_MS;
}

/**
 * The start of the last pass of each seed and the Jobs it saw marked, and
 * the rule that drops events it answered. Kept in the handler's memory: a new
 * Lambda environment starts empty and runs one pass more, never one fewer.
 */
export class PassLedger {
  private readonly started = new Map<string, number>();
  /** The gate-marked Jobs the latest-starting pass of each seed saw. */
  private readonly marked = new Map<string, ReadonlySet<string>>();
  /** Ids of events a pass answered by what it saw, newest last (bounded: {@link REMEMBERED}). */
  private readonly answeredIds = new Set<string>();
  /** Seeds whose last pass that started at once answered every event it was run for. */
  private readonly trusted = new Set<string>();

  /**
   * Whether a completed pass of `seed` already answered `event`: by its time
   * (see {@link answeredFrom}), because the last pass saw the Job a hint names
   * carrying the gate's mark (it judged that Job), or because the event with
   * this id was answered before (a redelivery). Otherwise it needs a pass.
   */
  answered(seed: string, event: QueuedEvent): boolean {
    if (event.id !== undefined && this.answeredIds.has(`${seed}/${event.id}`)) return true;
    if (event.job !== undefined && this.marked.get(seed)?.has(event.job) === true) return true;
    const start = this.started.get(seed);
    return event.time !== undefined && start !== undefined && answeredFrom(event.time) <= start;
  }

  /**
   * Whether the next pass of `seed` may start at once: the seed is idle (no
   * pass started within {@link IDLE_MS} before `now`), or its last pass that
   * started at once answered every event it was run for. Once one did not
   * (hints for Jobs it never saw: a race, or a flood), the seed's passes wait
   * and coalesce until it is idle again.
   */
  runsAtOnce(seed: string, now: number): boolean {
    const start = this.started.get(seed);
    return start === undefined || now - start >= IDLE_MS || this.trusted.has(seed);
  }

  /** Records whether a pass of `seed` that started at once answered every event it was run for. */
  answeredAll(seed: string, all: boolean): void {
    if (all) this.trusted.add(seed);
    else this.trusted.delete(seed);
  }

  /** Remembers events a pass of `seed` answered by what it saw, so their redeliveries cost no pass. */
  remember(seed: string, ids: readonly (string | undefined)[]): void {
    for (const id of ids) {
      if (id === undefined) continue;
      this.answeredIds.add(`${seed}/${id}`);
      // A Set iterates in insertion order: the first is the oldest.
      if (this.answeredIds.size > REMEMBERED) {
        const oldest = this.answeredIds.values().next();
        if (oldest.done !== true) this.answeredIds.delete(oldest.value);
      }
    }
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

  /**
   * Records that a pass of `seed` that started at `start` (epoch ms)
   * completed, having seen the gate's mark on `markedJobs` (`cluster/namespace/name`).
   */
  completed(seed: string, start: number, markedJobs: ReadonlySet<string> = new Set()): void {
    const last = this.started.get(seed);
    if (last !== undefined && last > start) return;
    this.started.set(seed, start);
    this.marked.set(seed, markedJobs);
  }
}
