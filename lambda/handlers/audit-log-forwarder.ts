import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { EventBridgePublisher } from '../adapters/eventbridge/event-bridge-publisher';
import { normalizeAuditLogs } from '../audit/audit-log-events';
import type { EventPublisherPort } from '../ports/event-publisher-port';
import { METRICS_NAMESPACE } from '../ports/metric-names';
import { requiredEnv } from '../required-env';

export interface AuditLogForwarderDeps {
  readonly publisher: EventPublisherPort;
  readonly seeds: readonly string[];
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Builds the handler for the CloudWatch Logs subscription on the clusters'
 * audit logs. Throwing makes Lambda retry the delivery (asynchronous
 * invocation), which is what we want when the bus refused events.
 */
export function createAuditLogForwarder(deps: AuditLogForwarderDeps) {
  return async (event: CloudWatchLogsEvent): Promise<void> => {
    const { entries, skipped } = normalizeAuditLogs(event.awslogs.data, deps.seeds);
    await deps.publisher.publish(entries);
    deps.metrics.addMetric('AuditEventsForwarded', MetricUnit.Count, entries.length);
    deps.logger.info('forwarded ServiceAccount changes', {
      forwarded: entries.length,
      skipped,
      changes: entries.map((e) => JSON.parse(e.Detail) as unknown),
    });
    deps.metrics.publishStoredMetrics();
  };
}

// Created once per module, so warm invocations reuse clients and connections.
const logger = new Logger({ serviceName: 'kubestash-irsa-audit-forwarder' });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'audit-forwarder' });
let built: ReturnType<typeof createAuditLogForwarder> | undefined;

export const handler = async (event: CloudWatchLogsEvent): Promise<void> => {
  built ??= createAuditLogForwarder({
    publisher: new EventBridgePublisher(new EventBridgeClient({}), {
      eventBusName: requiredEnv('EVENT_BUS_NAME'),
    }),
    seeds: requiredEnv('SEEDS')
      .split(',')
      .filter((s) => s !== ''),
    logger,
    metrics,
  });
  return built(event);
};
