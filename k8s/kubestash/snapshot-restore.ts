import { Construct } from 'constructs';
import { RestoreSession } from '../imports/core.kubestash.com';
import { taskProblems } from './addon-catalog';
import type { SecretReference } from './restic-password-secret';
import { referenceTo } from './scheduled-backup';
import type { BackupTarget, ScheduledBackup } from './scheduled-backup';

export interface SnapshotRestoreProps {
  readonly name: string;
  /** The backup whose repository holds the snapshot; the restore runs in its namespace. */
  readonly backup: ScheduledBackup;
  /** What to restore into. @default the backup's target */
  readonly target: BackupTarget;
  readonly encryptionSecret: SecretReference;
  /** `latest` or a Snapshot name. @default 'latest' */
  readonly snapshot?: string;
  /** @default 'logical-backup-restore' */
  readonly task?: string;
  /** @default {} */
  readonly params?: Readonly<Record<string, string>>;
}

/**
 * A KubeStash RestoreSession from one of this app's backups. Its restore Job
 * gets a role the same way the backup Jobs do (seed 000, section 6.3).
 */
export class SnapshotRestore extends Construct {
  constructor(scope: Construct, id: string, props: SnapshotRestoreProps) {
    super(scope, id);
    const task = props.task ?? 'logical-backup-restore';
    const params = props.params ?? {};
    const problems = taskProblems(props.backup.addon, 'restore', task, params);
    if (problems.length > 0) {
      throw new Error(
        `SnapshotRestore ${props.name}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      );
    }
    new RestoreSession(this, 'Resource', {
      metadata: { name: props.name, namespace: props.backup.namespace },
      spec: {
        target: {
          apiGroup: props.target.apiGroup,
          kind: props.target.kind,
          name: props.target.name,
          namespace: props.backup.namespace,
        },
        dataSource: {
          repository: props.backup.repository,
          snapshot: props.snapshot ?? 'latest',
          encryptionSecret: referenceTo(props.encryptionSecret),
        },
        addon: { name: props.backup.addon.name, tasks: [{ name: task, params: { ...params } }] },
      },
    });
  }
}
