import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';

import type { ManifestContext } from '../manifest-context';
import { addonForTarget, addonNamed, defaultApiGroup } from '../kubestash/addon-catalog';
import type { Addon } from '../kubestash/addon-catalog';
import { ScheduledBackup } from '../kubestash/scheduled-backup';
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
    const backups = kubernetes.backups.map((b) => {
      const apiGroup = b.target.apiGroup ?? defaultApiGroup(b.target.kind);
      return new ScheduledBackup(this, `${b.namespace}-${b.name}`, {
        name: b.name,
        namespace: b.namespace,
        target: { apiGroup, kind: b.target.kind, name: b.target.name },
        storage: { name: storage.storage.name, namespace: storage.storage.namespace },
        retentionPolicy: {
          name: storage.retentionPolicy.name,
          namespace: storage.retentionPolicy.namespace,
        },
        encryptionSecret: storage.encryptionSecret,
        schedule: b.schedule,
        sessionName: b.sessionName,
        repository: b.repository,
        directory: b.directory,
        addon: resolveAddon(b.addon, apiGroup, b.target.kind),
        task: b.task,
        params: b.params,
        retry: b.retry,
        backoffLimit: b.backoffLimit,
        paused: b.paused,
      });
    });
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
        target: {
          apiGroup: source.target.apiGroup ?? defaultApiGroup(source.target.kind),
          kind: source.target.kind,
          name: source.target.name,
        },
        encryptionSecret: storage.encryptionSecret,
        snapshot: r.snapshot,
        task: r.task,
        params: r.params,
      });
    }
  }
}

function resolveAddon(name: string | undefined, apiGroup: string, kind: string): Addon {
  const addon = name === undefined ? addonForTarget(apiGroup, kind) : addonNamed(name);
  if (addon === undefined) {
    throw new Error(
      `no addon for ${kind}.${apiGroup}${name === undefined ? '' : ` named ${name}`}`,
    );
  }
  return addon;
}
