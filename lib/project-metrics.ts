import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  CLUSTER_DIMENSION,
  JOB_GATE_SERVICE,
  METRICS_NAMESPACE,
  REASON_DIMENSION,
  RECONCILER_SERVICE,
  ReconcilerMetric,
  SEED_DIMENSION,
} from '../lambda/ports/metric-names';
import type { GateMetricName, ReconcilerMetricName } from '../lambda/ports/metric-names';

/**
 * CloudWatch metric objects for what the handlers emit, built from the names
 * the handlers import (lambda/ports/metric-names.ts), so an alarm or a graph
 * cannot watch a metric nobody writes.
 */

export interface ProjectMetricOptions {
  /** e.g. `Maximum`, `Sum`, `p99`. */
  readonly statistic: string;
  /** @default Duration.minutes(5) */
  readonly period?: Duration;
  /** The graph legend. @default the metric name */
  readonly label?: string;
}

/** One of the reconciler's per-seed metrics (dimensions `service`, `Seed`, and `Reason` if given). */
export function reconcilerSeedMetric(
  seed: string,
  metricName: ReconcilerMetricName,
  options: ProjectMetricOptions & { readonly reason?: string },
): cloudwatch.Metric {
  return projectMetric(
    metricName,
    {
      service: RECONCILER_SERVICE,
      [SEED_DIMENSION]: seed,
      ...(options.reason === undefined ? {} : { [REASON_DIMENSION]: options.reason }),
    },
    options,
  );
}

/**
 * The reconciler's per-cluster metric `ClusterUnreachable` (dimensions
 * `service`, `Cluster`): a pass could not connect to the cluster's API server.
 */
export function clusterUnreachableMetric(
  cluster: string,
  options: ProjectMetricOptions,
): cloudwatch.Metric {
  return projectMetric(
    ReconcilerMetric.ClusterUnreachable,
    { service: RECONCILER_SERVICE, [CLUSTER_DIMENSION]: cluster },
    options,
  );
}

/** One of the job gate's metrics (dimension `service`). */
export function gateMetric(
  metricName: GateMetricName,
  options: ProjectMetricOptions,
): cloudwatch.Metric {
  return projectMetric(metricName, { service: JOB_GATE_SERVICE }, options);
}

/** A metric in the project's namespace; the period defaults to 5 minutes. */
function projectMetric(
  metricName: ReconcilerMetricName | GateMetricName,
  dimensionsMap: Record<string, string>,
  options: ProjectMetricOptions,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap,
    statistic: options.statistic,
    period: options.period ?? Duration.minutes(5),
    ...(options.label === undefined ? {} : { label: options.label }),
  });
}
