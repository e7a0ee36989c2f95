/**
 * The KubeStash addons this project can configure: which workloads each backs
 * up, and the task and parameter names the addon accepts. These are facts read
 * from the upstream Addon objects (paths below); the objects themselves are
 * under the AppsCode Community License, so they are not copied into the
 * project. A BackupConfiguration or RestoreSession naming a task or parameter
 * not listed here is refused at synth time instead of failing in the cluster.
 */

export interface AddonTask {
  readonly name: string;
  readonly params: readonly string[];
  readonly requiredParams: readonly string[];
}

export interface Addon {
  readonly name: string;
  /** API group of the objects the addon backs up. */
  readonly targetApiGroup: string;
  readonly targetKinds: readonly string[];
  readonly backupTasks: readonly AddonTask[];
  readonly restoreTasks: readonly AddonTask[];
  /** Where the names were read (repository@commit path). */
  readonly source: string;
}

export const ADDON_CATALOG: readonly Addon[] = [
  {
    name: 'cassandra-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['Cassandra'],
    backupTasks: [
      { name: 'logical-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    restoreTasks: [
      { name: 'logical-backup-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/cassandra/cassandra-addon.yaml',
  },
  {
    name: 'clickhouse-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['ClickHouse'],
    backupTasks: [
      { name: 'logical-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
      { name: 'manifest-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    restoreTasks: [
      { name: 'logical-backup-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
      {
        name: 'incremental-restore',
        params: ['enableCache', 'scratchDir', 'pitrTime'],
        requiredParams: ['pitrTime'],
      },
      { name: 'manifest-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/clickhouse/clickhouse-addon.yaml',
  },
  {
    name: 'elasticsearch-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['Elasticsearch'],
    backupTasks: [
      {
        name: 'logical-backup',
        params: ['args', 'interimDataDir', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      {
        name: 'dashboard-backup',
        params: ['interimDataDir', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
    ],
    restoreTasks: [
      {
        name: 'logical-backup-restore',
        params: ['args', 'interimDataDir', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      {
        name: 'dashboard-restore',
        params: ['interimDataDir', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
    ],
    source:
      'kubedb/installer@0c6e2459 catalog/kubestash/raw/elasticsearch/elasticsearch-addon.yaml',
  },
  {
    name: 'mariadb-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['MariaDB'],
    backupTasks: [
      { name: 'logical-backup', params: ['args', 'enableCache', 'scratchDir'], requiredParams: [] },
      {
        name: 'physical-backup',
        params: ['args', 'enableCache', 'host', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'manifest-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
      { name: 'volume-snapshot', params: ['volumeSnapshotClassName'], requiredParams: [] },
    ],
    restoreTasks: [
      {
        name: 'logical-backup-restore',
        params: ['args', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      {
        name: 'physical-backup-restore',
        params: ['args', 'dataDir', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'manifest-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
      {
        name: 'distributed-physical-backup-restore',
        params: ['args', 'dataDir', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/mariadb/mariadb-addon.yaml',
  },
  {
    name: 'mongodb-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['MongoDB'],
    backupTasks: [
      { name: 'logical-backup', params: ['args', 'enableCache', 'scratchDir'], requiredParams: [] },
      { name: 'volume-snapshot', params: ['volumeSnapshotClassName'], requiredParams: [] },
      { name: 'manifest-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    restoreTasks: [
      {
        name: 'logical-backup-restore',
        params: ['args', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'manifest-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/mongodb/mongodb-addon.yaml',
  },
  {
    name: 'mssqlserver-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['MSSQLServer'],
    backupTasks: [
      { name: 'logical-backup', params: ['databases', 'copyOnly'], requiredParams: [] },
      { name: 'manifest-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    restoreTasks: [
      { name: 'logical-backup-restore', params: ['databases', 'noRecovery'], requiredParams: [] },
      { name: 'manifest-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/mssqlserver/mssqlserver-addon.yaml',
  },
  {
    name: 'mysql-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['MySQL'],
    backupTasks: [
      {
        name: 'logical-backup',
        params: ['args', 'databases', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      {
        name: 'physical-backup',
        params: ['args', 'dataDir', 'databases', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'volume-snapshot', params: ['volumeSnapshotClassName'], requiredParams: [] },
      { name: 'manifest-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    restoreTasks: [
      {
        name: 'logical-backup-restore',
        params: ['args', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      {
        name: 'physical-backup-restore',
        params: ['args', 'dataDir', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'manifest-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/mysql/mysql-addon.yaml',
  },
  {
    name: 'postgres-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['Postgres'],
    backupTasks: [
      {
        name: 'logical-backup',
        params: ['args', 'backupCmd', 'user', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      {
        name: 'physical-backup',
        params: ['args', 'backupCmd', 'user', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'volume-snapshot', params: ['volumeSnapshotClassName'], requiredParams: [] },
      { name: 'manifest-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    restoreTasks: [
      {
        name: 'logical-backup-restore',
        params: ['args', 'user', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      {
        name: 'physical-backup-restore',
        params: ['args', 'user', 'enableCache', 'scratchDir', 'restoreCmd', 'restorePath'],
        requiredParams: [],
      },
      { name: 'manifest-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/postgres/postgres-addon.yaml',
  },
  {
    name: 'redis-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['Redis'],
    backupTasks: [
      { name: 'logical-backup', params: ['args', 'enableCache', 'scratchDir'], requiredParams: [] },
      { name: 'manifest-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    restoreTasks: [
      {
        name: 'logical-backup-restore',
        params: ['args', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'manifest-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/redis/redis-addon.yaml',
  },
  {
    name: 'singlestore-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['Singlestore'],
    backupTasks: [
      {
        name: 'logical-backup',
        params: ['args', 'databases', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'manifest-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    restoreTasks: [
      {
        name: 'logical-backup-restore',
        params: ['args', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'manifest-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/singlestore/singlestore-addon.yaml',
  },
  {
    name: 'zookeeper-addon',
    targetApiGroup: 'kubedb.com',
    targetKinds: ['ZooKeeper'],
    backupTasks: [
      {
        name: 'logical-backup',
        params: ['args', 'interimDataDir', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'manifest-backup', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    restoreTasks: [
      {
        name: 'logical-backup-restore',
        params: ['args', 'interimDataDir', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      { name: 'manifest-restore', params: ['enableCache', 'scratchDir'], requiredParams: [] },
    ],
    source: 'kubedb/installer@0c6e2459 catalog/kubestash/raw/zookeeper/zookeeper-addon.yaml',
  },
  {
    name: 'workload-addon',
    targetApiGroup: 'apps',
    targetKinds: ['DaemonSet', 'Deployment', 'StatefulSet'],
    backupTasks: [
      {
        name: 'logical-backup',
        params: ['paths', 'exclude', 'enableCache', 'scratchDir'],
        requiredParams: ['paths'],
      },
      { name: 'volume-snapshot', params: ['volumeSnapshotClassName'], requiredParams: [] },
      {
        name: 'manifest-backup',
        params: ['enableCache', 'scratchDir', 'includeRBACResources'],
        requiredParams: [],
      },
    ],
    restoreTasks: [
      {
        name: 'logical-backup-restore',
        params: ['exclude', 'include', 'enableCache', 'scratchDir'],
        requiredParams: [],
      },
      {
        name: 'manifest-restore',
        params: ['enableCache', 'scratchDir', 'includeRBACResources', 'overrideResources'],
        requiredParams: [],
      },
    ],
    source: 'kubestash/installer@bc3770b0 catalog/raw/workload/workload-addon.yaml',
  },
];

/** The addon that backs up objects of `kind` in `apiGroup`, if any. */
export function addonForTarget(apiGroup: string, kind: string): Addon | undefined {
  return ADDON_CATALOG.find((a) => a.targetApiGroup === apiGroup && a.targetKinds.includes(kind));
}

/** The addon named `name`, if the catalog knows it. */
export function addonNamed(name: string): Addon | undefined {
  return ADDON_CATALOG.find((a) => a.name === name);
}

/**
 * The addon that runs a backup of `target`: the one named, or else the one
 * that backs up the target's kind in its API group (by default the group the
 * catalog knows for that kind).
 */
export function addonFor(
  target: { readonly kind: string; readonly apiGroup?: string },
  name: string | undefined,
): Addon | undefined {
  return name === undefined
    ? addonForTarget(target.apiGroup ?? defaultApiGroup(target.kind), target.kind)
    : addonNamed(name);
}

/** The API group of a kind the catalog knows; `apps` for anything else. */
export function defaultApiGroup(kind: string): string {
  return ADDON_CATALOG.find((a) => a.targetKinds.includes(kind))?.targetApiGroup ?? 'apps';
}

export interface TaskProblem {
  /** `task`, or `params.<name>` for one parameter, or `params` for a missing one. */
  readonly field: string;
  readonly message: string;
}

/**
 * What is wrong with running `taskName` of `addon` with `params`: an unknown
 * task, a parameter the task does not take, a required one left out. Empty
 * when all is well. KubeStash itself would only say so when the Job fails.
 */
export function taskProblems(
  addon: Addon,
  direction: 'backup' | 'restore',
  taskName: string,
  params: Readonly<Record<string, string>>,
): TaskProblem[] {
  const tasks = direction === 'backup' ? addon.backupTasks : addon.restoreTasks;
  const task = tasks.find((t) => t.name === taskName);
  if (task === undefined) {
    return [
      {
        field: 'task',
        message: `${addon.name} has no ${direction} task "${taskName}"; use one of ${tasks.map((t) => t.name).join(', ')}`,
      },
    ];
  }
  const unknown = Object.keys(params)
    .filter((p) => !task.params.includes(p))
    .map((p) => ({
      field: `params.${p}`,
      message: `${addon.name} task ${task.name} takes no parameter "${p}"; it takes ${task.params.join(', ') || 'none'}`,
    }));
  const missing = task.requiredParams
    .filter((p) => !(p in params))
    .map((p) => ({
      field: 'params',
      message: `${addon.name} task ${task.name} needs the parameter "${p}", e.g. params: { "${p}": "..." }`,
    }));
  return [...unknown, ...missing];
}
