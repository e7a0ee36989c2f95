import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';

import type { ManifestContext } from '../manifest-context';
import type { BackupConfig } from '../../lib/config/kubernetes-config';
import { addonFor, defaultApiGroup } from '../kubestash/addon-catalog';
import type { Addon } from '../kubestash/addon-catalog';
import { ScheduledBackup } from '../kubestash/scheduled-backup';
import type { BackupTarget } from '../kubestash/scheduled-backup';
import { SnapshotRestore } from '../kubestash/snapshot-restore';
import type { KubestashStorageChart } from './kubestash-storage-chart';

export interface BackupsChartProps extends ChartProps {
  readonly context: ManifestContext;
  readonly storage: KubestashStorageChart;
}

/** The BackupConfigurations and RestoreSessions of the config, pointing at the storage chart's objects. */
export class BackupsChart extends Chart {
  constructor(scope: Construct, id: string, props: BackupsChartProps) {
    super(scope, id, props);
    const { kubernetes } = props.context.config;
    const { storage } = props;
    const backups = kubernetes.backups.map(
      (b) =>
        new ScheduledBackup(this, `${b.namespace}-${b.name}`, {
          name: b.name,
          namespace: b.namespace,
          target: targetOf(b),
          // ScheduledBackup copies name and namespace out of these constructs.
          storage: storage.storage,
          retentionPolicy: storage.retentionPolicy,
          encryptionSecret: storage.encryptionSecret,
          schedule: b.schedule,
          sessionName: b.sessionName,
          repository: b.repository,
          directory: b.directory,
          addon: resolveAddon(b),
          task: b.task,
          params: b.params,
          retry: b.retry,
          backoffLimit: b.backoffLimit,
          paused: b.paused,
        }),
    );
    for (const r of kubernetes.restores) {
      const index = kubernetes.backups.findIndex(
        (b) => b.name === r.from && b.namespace === r.namespace,
      );
      const source = kubernetes.backups[index];
      if (index < 0 || source === undefined) {
        throw new Error(
          `restore ${r.namespace}/${r.name}: no backup "${r.from}" in ${r.namespace}`,
        );
      }
      new SnapshotRestore(this, `${r.namespace}-${r.name}`, {
        name: r.name,
        backup: backups[index],
        target: targetOf(source),
        encryptionSecret: storage.encryptionSecret,
        snapshot: r.snapshot,
        task: r.task,
        params: r.params,
      });
    }
  }
}

/** The addon of a backup; the config has already refused a missing or ill-fitting one. */
function resolveAddon(backup: BackupConfig): Addon {
  const addon = addonFor(backup.target, backup.addon);
  if (addon === undefined) {
    throw new Error(
      `backup ${backup.namespace}/${backup.name}: no addon for ${backup.target.kind}`,
    );
  }
  return addon;
}

/** The target as KubeStash writes it, with the API group the catalog knows for its kind. */
function targetOf(backup: BackupConfig): BackupTarget {
  const { kind, name } = backup.target;
  return { apiGroup: backup.target.apiGroup ?? defaultApiGroup(kind), kind, name };
}
