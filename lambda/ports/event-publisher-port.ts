/** One event for the project's bus: what EventBridge PutEvents takes, minus the bus. */
export interface BusEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
}

export interface EventPublisherPort {
  /** Publishes every entry or throws; entries EventBridge refused are retried first. */
  publish(entries: readonly BusEntry[]): Promise<void>;
}
