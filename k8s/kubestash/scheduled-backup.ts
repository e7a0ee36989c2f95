import { Construct } from 'constructs';
import { BackupConfiguration } from '../imports/core.kubestash.com';
import { taskProblems } from './addon-catalog';
import type { Addon } from './addon-catalog';
import type { SecretReference } from './restic-password-secret';

export interface ObjectReference {
  readonly name: string;
  readonly namespace: string;
}

export interface BackupTarget {
  readonly apiGroup: string;
  readonly kind: string;
  readonly name: string;
}

/**
 * `{ name, namespace }` of a reference, copied field by field: the reference
 * may be a construct (a ResticPasswordSecret is a SecretReference), and
 * spreading a construct would copy its `node` too, which cdk8s cannot
 * serialize ("can't render non-simple object of type 'Node'").
 */
export function referenceTo(ref: ObjectReference): { name: string; namespace: string } {
  return { name: ref.name, namespace: ref.namespace };
}

export interface ScheduledBackupProps {
  readonly name: string;
  readonly namespace: string;
  /** The workload or database to back up; it lives in `namespace`. */
  readonly target: BackupTarget;
  readonly storage: ObjectReference;
  readonly retentionPolicy: ObjectReference;
  readonly encryptionSecret: SecretReference;
  /** Five-field cron schedule. */
  readonly schedule: string;
  /** @default 'scheduled' */
  readonly sessionName?: string;
  /** @default `<name>-repo` */
  readonly repository?: string;
  /** Folder of the repository inside the storage. @default `/<namespace>/<target name>` */
  readonly directory?: string;
  readonly addon: Addon;
  /** @default 'logical-backup' */
  readonly task?: string;
  /** @default {} */
  readonly params?: Readonly<Record<string, string>>;
  /** `maxRetry: 0` means no retries. @default { maxRetry: 2, delay: '1m' } */
  readonly retry?: { readonly maxRetry: number; readonly delay: string };
  /** Retries of the backup Job's pod. @default 1 */
  readonly backoffLimit?: number;
  /** @default false */
  readonly paused?: boolean;
}

/**
 * A KubeStash BackupConfiguration with one backend, one session and one
 * repository. The Jobs KubeStash creates for it run as ServiceAccounts that
 * inherit the operator's seed annotation; the reconciler grants them a derived
 * role, and the job gate holds each Job until it has one.
 */
export class ScheduledBackup extends Construct {
  readonly name: string;
  readonly namespace: string;
  readonly repository: string;
  readonly addon: Addon;

  constructor(scope: Construct, id: string, props: ScheduledBackupProps) {
    super(scope, id);
    if (!props.addon.targetKinds.includes(props.target.kind)) {
      throw new Error(
        `ScheduledBackup ${props.name}: ${props.addon.name} backs up ${props.addon.targetKinds.join(', ')}, not ${props.target.kind}; choose the addon for that kind`,
      );
    }
    const task = props.task ?? 'logical-backup';
    const params = props.params ?? {};
    const problems = taskProblems(props.addon, 'backup', task, params);
    if (problems.length > 0) {
      throw new Error(
        `ScheduledBackup ${props.name}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
      );
    }
    this.name = props.name;
    this.namespace = props.namespace;
    this.repository = props.repository ?? `${props.name}-repo`;
    this.addon = props.addon;
    const backend = 's3-backend';
    const retry = props.retry ?? { maxRetry: 2, delay: '1m' };
    new BackupConfiguration(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        target: {
          apiGroup: props.target.apiGroup,
          kind: props.target.kind,
          name: props.target.name,
          namespace: props.namespace,
        },
        backends: [
          {
            name: backend,
            storageRef: referenceTo(props.storage),
            retentionPolicy: referenceTo(props.retentionPolicy),
          },
        ],
        sessions: [
          {
            name: props.sessionName ?? 'scheduled',
            scheduler: {
              schedule: props.schedule,
              jobTemplate: { backoffLimit: props.backoffLimit ?? 1 },
            },
            repositories: [
              {
                name: this.repository,
                backend,
                directory: props.directory ?? `/${props.namespace}/${props.target.name}`,
                encryptionSecret: referenceTo(props.encryptionSecret),
              },
            ],
            addon: { name: props.addon.name, tasks: [{ name: task, params: { ...params } }] },
            // The CRD requires maxRetry >= 1: no retries is written as no retryConfig at all.
            ...(retry.maxRetry > 0
              ? { retryConfig: { maxRetry: retry.maxRetry, delay: retry.delay } }
              : {}),
          },
        ],
        ...(props.paused === true ? { paused: true } : {}),
      },
    });
  }
}
