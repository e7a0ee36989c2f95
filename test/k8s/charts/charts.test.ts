import { Testing } from 'cdk8s';
import { parse } from 'yaml';
import { ConfigError } from '../../../lib/config';
import {
  DatabaseDumpChart,
  secretProviderClassSpec,
} from '../../../k8s/charts/database-dump-chart';
import { NamespacesChart } from '../../../k8s/charts/namespaces-chart';
import { ReconcilerRbacChart } from '../../../k8s/charts/reconciler-rbac-chart';
import { exampleConfig, ofKind, synthExample } from '../../support/k8s-manifests';
import type { KubeObject } from '../../support/k8s-manifests';

describe('NamespacesChart', () => {
  test('one Namespace per name, each once, sorted', () => {
    const chart = new NamespacesChart(Testing.app(), 'ns', { namespaces: ['b', 'a', 'b'] });
    expect((Testing.synth(chart) as KubeObject[]).map((o) => o.metadata.name)).toEqual(['a', 'b']);
  });
});

describe('ReconcilerRbacChart', () => {
  test('refuses to bind nowhere', () => {
    expect(
      () => new ReconcilerRbacChart(Testing.app(), 'rbac', { group: 'g', namespaces: [] }),
    ).toThrow('give at least one namespace');
  });
});

describe('DatabaseDumpChart', () => {
  const config = exampleConfig();
  const chart = new DatabaseDumpChart(Testing.app(), 'dump', {
    dump: config.databaseDumps[0],
    roleArn: 'arn:aws:iam::111122223333:role/KubestashIrsa-dump-app-db',
    bucket: 'bucket',
    keyPrefix: 'backups/database-dumps/app-db',
    region: 'us-east-1',
  });
  const objects = Testing.synth(chart) as KubeObject[];
  const pod = ofKind(objects, 'CronJob')[0].spec.jobTemplate.spec.template.spec;

  test('every object is in the dump’s namespace', () => {
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['database-backup']));
  });

  test('containers run as nobody, read-only, without privileges, within limits', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    for (const c of [...pod.initContainers, ...pod.containers]) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.resources).toEqual({
        requests: { cpu: '50m', memory: '64Mi' },
        limits: { cpu: '100m', memory: '512Mi' },
      });
      expect(c.image).not.toMatch(/:latest$/);
    }
    expect(pod.restartPolicy).toBe('OnFailure');
  });

  test('the password is read from the CSI mount, never put in the pod spec', () => {
    const spec = JSON.stringify(pod);
    expect(spec).not.toMatch(/secretKeyRef|envFrom/);
    expect(pod.initContainers[0].args[0]).toContain(
      'PGPASSWORD="$(cat /mnt/secrets-store/db-password)"',
    );
    expect(ofKind(objects, 'Secret')).toEqual([]);
  });

  test('the AWS provider maps the secret’s JSON fields to the files the dump reads', () => {
    const spec = secretProviderClassSpec('arn:aws:secretsmanager:us-east-1:1:secret:x') as {
      provider: string;
      parameters: { objects: string };
    };
    expect(spec.provider).toBe('aws');
    expect(parse(spec.parameters.objects)).toEqual([
      {
        objectName: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
        objectType: 'secretsmanager',
        jmesPath: [
          { path: 'username', objectAlias: 'db-user' },
          { path: 'password', objectAlias: 'db-password' },
          { path: 'host', objectAlias: 'db-host' },
          { path: 'port | to_string(@)', objectAlias: 'db-port' },
        ],
      },
    ]);
    for (const alias of ['db-user', 'db-password', 'db-host', 'db-port']) {
      expect(pod.initContainers[0].args[0]).toContain(`/mnt/secrets-store/${alias}`);
    }
  });
});

describe('BackupsChart', () => {
  test('an addon that does not back up the target kind is a config error naming the field', () => {
    let error: unknown;
    try {
      synthExample((c) => {
        c.kubernetes.backups[0].addon = 'postgres-addon';
        c.kubernetes.backups[0].params = {};
        c.kubernetes.restores = [];
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'config.kubernetes.backups.0.addon: got "postgres-addon": it backs up Postgres, not DaemonSet; remove addon to use workload-addon',
    ]);
  });
});
