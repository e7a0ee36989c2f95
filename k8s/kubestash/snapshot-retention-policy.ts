import { Construct } from 'constructs';
import {
  RetentionPolicy,
  RetentionPolicySpecUsagePolicyAllowedNamespacesFrom as From,
} from '../imports/storage.kubestash.com';
import { selectorJson } from './usage-policy';
import type { UsagePolicy } from './usage-policy';

const FROM = { All: From.ALL, Same: From.SAME, Selector: From.SELECTOR } as const;
// KubeStash's RetentionPeriod: whole numbers of years, months, weeks, days, hours, minutes.
const RETENTION_PERIOD = /^([1-9]\d*(y|mo|w|d|h|m))+$/;
// The CRD types every count as int32: a larger one passes the config but the API server refuses it.
const INT32_MAX = 2 ** 31 - 1;

export interface SnapshotCounts {
  readonly last: number;
  readonly hourly?: number;
  readonly daily?: number;
  readonly weekly?: number;
  readonly monthly?: number;
  readonly yearly?: number;
}

export interface SnapshotRetentionPolicyProps {
  readonly name: string;
  readonly namespace: string;
  readonly successfulSnapshots: SnapshotCounts;
  /** @default 2 */
  readonly failedSnapshotsToKeep?: number;
  /** Snapshots older than this are removed whatever the counts say, e.g. `2mo`. */
  readonly maxRetentionPeriod: string;
  /** Whether BackupConfigurations that name no retention policy use this one. @default true */
  readonly default?: boolean;
  readonly usagePolicy: UsagePolicy;
}

/** A KubeStash RetentionPolicy: how many snapshots to keep, and for how long at most. */
export class SnapshotRetentionPolicy extends Construct {
  readonly name: string;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: SnapshotRetentionPolicyProps) {
    super(scope, id);
    if (!RETENTION_PERIOD.test(props.maxRetentionPeriod)) {
      throw new Error(
        `SnapshotRetentionPolicy ${props.name}: maxRetentionPeriod "${props.maxRetentionPeriod}" is not a KubeStash period; write e.g. "30d", "2mo" or "1y6mo"`,
      );
    }
    const counts = Object.entries(props.successfulSnapshots).filter(
      ([, n]) => n !== undefined && (!Number.isInteger(n) || n < 1 || n > INT32_MAX),
    );
    if (counts.length > 0) {
      throw new Error(
        `SnapshotRetentionPolicy ${props.name}: successfulSnapshots.${counts[0][0]} is ${counts[0][1]}; keep a whole number from 1 to ${INT32_MAX}`,
      );
    }
    const failed = props.failedSnapshotsToKeep ?? 2;
    if (!Number.isInteger(failed) || failed < 0 || failed > INT32_MAX) {
      throw new Error(
        `SnapshotRetentionPolicy ${props.name}: failedSnapshotsToKeep is ${failed}; keep a whole number from 0 to ${INT32_MAX}`,
      );
    }
    this.name = props.name;
    this.namespace = props.namespace;
    new RetentionPolicy(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        default: props.default ?? true,
        successfulSnapshots: { ...props.successfulSnapshots },
        failedSnapshots: { last: failed },
        maxRetentionPeriod: props.maxRetentionPeriod,
        usagePolicy: {
          allowedNamespaces: {
            from: FROM[props.usagePolicy.allowedNamespaces.from],
            selector: selectorJson(props.usagePolicy),
          },
        },
      },
    });
  }
}
