import type { GateJobs } from './release-gated-jobs';

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
 * The queue keeps one message per seed, kind and second (the rule's input
 * transformer and FIFO deduplication), so a message stands for every event of
 * its second, and names no object.
 *
 * A Job Gated hint is answered sooner and cheaper by looking at the Jobs the
 * gate holds (hint-watch.ts): once a look taken at L finds none that the last
 * pass did not judge, every hint stamped before L − 1 s − SETTLE_MS is
 * answered too ({@link PassLedger.looked}), with no pass.
 *
 * Other events: a seed that is idle (no pass started within the last
 * {@link IDLE_MS}), or whose last such pass answered everything, does not
 * wait: its pass starts at once, since most events' causes are visible by the
 * time the event is delivered. Only the events it could not answer by time
 * cost a second pass, after the wait, and from then on the seed waits until it
 * is idle again.
 */
/** Longer than the gate's hint bound (400 ms) plus the API server's write, and any clock skew. */
export const SETTLE_MS = 1_000;

const SECOND_MS = 1_000;

/** Message ids remembered as answered: SQS redelivers within its visibility timeout, long before this many more. */
const REMEMBERED = 10_000;

/**
 * A seed whose last pass started this long ago (or never) is idle: its next
 * pass starts at once. One answer window (1 s + SETTLE_MS), so a flood, whose
 * passes follow each other closer than that, keeps waiting and coalescing.
 */
export const IDLE_MS = SECOND_MS + SETTLE_MS;

/** The kinds of queued event, as the handler tells them apart. */
export type QueuedKind = 'jobGated' | 'serviceAccountChanged' | 'resync';

/** What the handler read of one queued message: enough to tell which pass or look answers it. */
export interface QueuedEvent {
  /** EventBridge's `time` (epoch ms), undefined when absent or unreadable. */
  readonly time?: number;
  /** The SQS message id; a redelivered message carries the same one. */
  readonly id?: string;
  readonly kind: QueuedKind;
}

/**
 * Whether a pass that started at `start` (epoch ms) answered `event`: a
 * resync asks for any pass after it, an event without a time gives nothing to
 * wait by, any other is answered once its second is over and settled.
 */
export function answeredBy(event: QueuedEvent, start: number): boolean {
  if (event.kind === 'resync' || event.time === undefined) return true;
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
 * The start of the last pass of each seed, the gate's Jobs as it left them,
 * the last look that found nothing new, and the rule that drops events they
 * answered. Kept in the handler's memory: a new Lambda environment starts
 * empty and runs one pass more, never one fewer.
 */
export class PassLedger {
  private readonly started = new Map<string, number>();
  /** The gate's Jobs as the latest-starting pass of each seed left them. */
  private readonly gate = new Map<string, GateJobs>();
  /** When a look at the held Jobs last found none the last pass had not judged. */
  private readonly lookedAt = new Map<string, number>();
  /** Ids of messages answered, newest last (bounded: {@link REMEMBERED}). */
  private readonly answeredIds = new Set<string>();
  /** Seeds whose last pass that started at once answered every event it was run for. */
  private readonly trusted = new Set<string>();

  /**
   * Whether `event` of `seed` is already answered: a message answered before
   * (a redelivery), an event whose second was over and settled when a
   * completed pass started, or a Job Gated hint whose second was over and
   * settled when a look found every held Job judged. Otherwise it needs work.
   */
  answered(seed: string, event: QueuedEvent): boolean {
    if (event.id !== undefined && this.answeredIds.has(`${seed}/${event.id}`)) return true;
    if (event.time === undefined) return false;
    const from = answeredFrom(event.time);
    const start = this.started.get(seed);
    if (start !== undefined && from <= start) return true;
    const looked = this.lookedAt.get(seed);
    return event.kind === 'jobGated' && looked !== undefined && from <= looked;
  }

  /**
   * Whether the next pass of `seed` may start at once: the seed is idle (no
   * pass started within {@link IDLE_MS} before `now`), or its last pass that
   * started at once answered every event it was run for. Once one did not,
   * the seed's passes wait and coalesce until it is idle again.
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

  /** Remembers answered messages of `seed`, so their redeliveries cost nothing. */
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
   * completed, leaving the gate's Jobs as `gateJobs` (undefined without a gate).
   */
  completed(seed: string, start: number, gateJobs?: GateJobs): void {
    const last = this.started.get(seed);
    if (last !== undefined && last > start) return;
    this.started.set(seed, start);
    if (gateJobs === undefined) this.gate.delete(seed);
    else this.gate.set(seed, gateJobs);
  }

  /** When the latest-starting completed pass of `seed` started (epoch ms); undefined before one. */
  lastPassStart(seed: string): number | undefined {
    return this.started.get(seed);
  }

  /** The gate's Jobs as the latest-starting pass of `seed` left them; undefined before one, or without a gate. */
  gateJobsOf(seed: string): GateJobs | undefined {
    return this.gate.get(seed);
  }

  /**
   * Records that a look at `seed`'s held Jobs taken at `at` (epoch ms, taken
   * before the list was sent) found none that the last pass had not judged.
   */
  looked(seed: string, at: number): void {
    const last = this.lookedAt.get(seed);
    if (last === undefined || at > last) this.lookedAt.set(seed, at);
  }
}
