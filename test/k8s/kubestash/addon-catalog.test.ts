import {
  ADDON_CATALOG,
  addonForTarget,
  addonNamed,
  defaultApiGroup,
  taskProblems,
} from '../../../k8s/kubestash/addon-catalog';

function addon(name: string) {
  const found = addonNamed(name);
  if (found === undefined) throw new Error(`no addon ${name}`);
  return found;
}

describe('the addon catalog', () => {
  test('is consistent: unique names and kinds, required params among the params, sources given', () => {
    const names = ADDON_CATALOG.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    const kinds = ADDON_CATALOG.flatMap((a) =>
      a.targetKinds.map((k) => `${a.targetApiGroup}/${k}`),
    );
    expect(new Set(kinds).size).toBe(kinds.length);
    for (const a of ADDON_CATALOG) {
      expect(a.source).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{8} \S+\.yaml$/);
      for (const task of [...a.backupTasks, ...a.restoreTasks]) {
        expect({ addon: a.name, task: task.name, params: task.params }).toEqual({
          addon: a.name,
          task: task.name,
          params: expect.arrayContaining([...task.requiredParams]),
        });
        expect(new Set(task.params).size).toBe(task.params.length);
      }
      // The defaults the config uses must exist for every addon.
      expect(a.backupTasks.map((t) => t.name)).toContain('logical-backup');
      expect(a.restoreTasks.map((t) => t.name)).toContain('logical-backup-restore');
    }
  });

  test('finds the addon of a target and the API group of a kind', () => {
    expect(addonForTarget('apps', 'StatefulSet')?.name).toBe('workload-addon');
    expect(addonForTarget('kubedb.com', 'Postgres')?.name).toBe('postgres-addon');
    expect(addonForTarget('apps', 'Postgres')).toBeUndefined();
    expect(addonForTarget('kubedb.com', 'DaemonSet')).toBeUndefined();
    expect(defaultApiGroup('MongoDB')).toBe('kubedb.com');
    expect(defaultApiGroup('Deployment')).toBe('apps');
    expect(defaultApiGroup('SomethingElse')).toBe('apps');
  });
});

describe('taskProblems', () => {
  test('none for a known task with known params', () => {
    expect(
      taskProblems(addon('workload-addon'), 'backup', 'logical-backup', { paths: '/a' }),
    ).toEqual([]);
    expect(taskProblems(addon('postgres-addon'), 'restore', 'logical-backup-restore', {})).toEqual(
      [],
    );
  });

  test('an unknown task, listing the tasks of that direction', () => {
    expect(taskProblems(addon('redis-addon'), 'restore', 'logical-backup', {})).toEqual([
      {
        field: 'task',
        message:
          'redis-addon has no restore task "logical-backup"; use one of logical-backup-restore, manifest-restore',
      },
    ]);
  });

  test('each unknown parameter, and each missing required one', () => {
    expect(
      taskProblems(addon('workload-addon'), 'backup', 'logical-backup', { path: '/a', user: 'x' }),
    ).toEqual([
      {
        field: 'params.path',
        message:
          'workload-addon task logical-backup takes no parameter "path"; it takes paths, exclude, enableCache, scratchDir',
      },
      {
        field: 'params.user',
        message:
          'workload-addon task logical-backup takes no parameter "user"; it takes paths, exclude, enableCache, scratchDir',
      },
      {
        field: 'params',
        message:
          'workload-addon task logical-backup needs the parameter "paths", e.g. params: { "paths": "..." }',
      },
    ]);
    expect(
      taskProblems(addon('clickhouse-addon'), 'restore', 'incremental-restore', {}).map(
        (p) => p.message,
      ),
    ).toEqual([
      'clickhouse-addon task incremental-restore needs the parameter "pitrTime", e.g. params: { "pitrTime": "..." }',
    ]);
  });
});
