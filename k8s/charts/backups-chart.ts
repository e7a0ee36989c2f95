import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';

import type { ManifestContext } from '../manifest-context';
import type { BackupConfig } from '../../lib/config/kubernetes-config';
import { ConfigError } from '../../lib/config/config-error';
import {
  ADDON_CATALOG,
  addonForTarget,
  addonNamed,
  defaultApiGroup,
} from '../kubestash/addon-catalog';
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
    const backups = kubernetes.backups.map((b, i) => {
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
        addon: resolveAddon(b, apiGroup, `config.kubernetes.backups.${i}`),
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

/**
 * The addon a backup runs, refused as a config error (naming the field) when
 * there is none for the target or the named one backs up other kinds:
 * project-config checks task and parameter names against the addon but not
 * that the addon fits the target, and ScheduledBackup's own check would
 * otherwise end synthesis with a stack trace instead of the config message.
 */
function resolveAddon(backup: BackupConfig, apiGroup: string, field: string): Addon {
  const kind = backup.target.kind;
  if (backup.addon === undefined) {
    const addon = addonForTarget(apiGroup, kind);
    if (addon === undefined) {
      throw new ConfigError([
        `${field}.target.kind: got "${kind}": no known addon backs up ${kind} in API group ${apiGroup}; name the addon (${field}.addon) or use one of ${ADDON_CATALOG.flatMap((a) => a.targetKinds).join(', ')}`,
      ]);
    }
    return addon;
  }
  const addon = addonNamed(backup.addon);
  if (addon === undefined) {
    throw new ConfigError([
      `${field}.addon: got "${backup.addon}": unknown addon; use one of ${ADDON_CATALOG.map((a) => a.name).join(', ')}`,
    ]);
  }
  if (!addon.targetKinds.includes(kind)) {
    const fitting = addonForTarget(apiGroup, kind);
    throw new ConfigError([
      `${field}.addon: got "${backup.addon}": it backs up ${addon.targetKinds.join(', ')}, not ${kind}; ${fitting === undefined ? 'choose an addon for that kind' : `remove addon to use ${fitting.name}`}`,
    ]);
  }
  return addon;
}
