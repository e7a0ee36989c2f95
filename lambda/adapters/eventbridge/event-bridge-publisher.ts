import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { BusEntry, EventPublisherPort } from '../../ports/event-publisher-port';

/** PutEvents takes at most ten entries a call. */
const MAX_ENTRIES = 10;

export interface EventBridgePublisherOptions {
  readonly eventBusName: string;
  /** Rounds of retrying the entries EventBridge refused (throttled or failed internally). @default 3 */
  readonly maxRetries?: number;
  /** Waits between rounds; injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Publishes to the project's bus. PutEvents can succeed as a call while
 * refusing single entries (FailedEntryCount); those are retried, and if any is
 * still refused the call throws so the caller's invocation is retried and
 * nothing is silently lost.
 */
export class EventBridgePublisher implements EventPublisherPort {
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly options: EventBridgePublisherOptions,
  ) {
    this.maxRetries = options.maxRetries ?? 3;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async publish(entries: readonly BusEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += MAX_ENTRIES) {
      await this.publishChunk(entries.slice(i, i + MAX_ENTRIES));
    }
  }

  private async publishChunk(chunk: readonly BusEntry[]): Promise<void> {
    let pending: PutEventsRequestEntry[] = chunk.map((e) => ({
      ...e,
      EventBusName: this.options.eventBusName,
    }));
    for (let attempt = 0; ; attempt++) {
      const out = await this.client.send(new PutEventsCommand({ Entries: pending }));
      const results = out.Entries ?? [];
      const failed = pending.filter((_, i) => results[i]?.ErrorCode !== undefined);
      if (failed.length === 0) return;
      if (attempt >= this.maxRetries) {
        const codes = [
          ...new Set(results.map((r) => r.ErrorCode).filter((c) => c !== undefined)),
        ].join(', ');
        throw new Error(
          `EventBridge refused ${failed.length} of ${chunk.length} events after ${attempt + 1} attempts (${codes})`,
        );
      }
      pending = failed;
      await this.sleep(100 * 2 ** attempt);
    }
  }
}
