import { parse } from 'yaml';
import { ConfigError } from '../../lib/config';
import { KUBERNETES_RBAC_RULES } from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import { ROLE_ARN_ANNOTATION } from '../../lambda/ports/annotations';
import { RECONCILER_ROLE_NAME } from '../../k8s/charts/reconciler-rbac-chart';
import { JOB_GATE_ROLE_NAME } from '../../k8s/charts/job-gate-rbac-chart';
import { addSeeds, moveConfigTo, synthExampleStack } from '../support/example-app';
import { ofKind, synthExample } from '../support/k8s-manifests';
import type { KubeObject, MutableConfig, SynthesizedManifests } from '../support/k8s-manifests';
import {
  CONFIG_VARIANTS,
  DEPLOYED,
  MULTI_CLUSTER,
  TEST_RESTIC_PASSWORD,
  synthVariant,
} from '../support/k8s-variants';

const example = synthExample();
const variants = CONFIG_VARIANTS.map((v) => ({
  name: v.name,
  modify: v.modify,
  synth: synthVariant(v),
}));

function fileIndexOf(synth: SynthesizedManifests, predicate: (o: KubeObject) => boolean): number {
  return synth.files.findIndex((f) => f.objects.some(predicate));
}

describe('YAML of the example config (cdk.json)', () => {
  test.each(example.files.map((f) => [f.name, f.yaml]))('%s', (name, yaml) => {
    expect(yaml).toMatchSnapshot(name);
  });

  test('helm/kubestash-values.yaml', () => {
    expect(example.manifests.operatorHelmValues).toMatchSnapshot();
  });

  test('the job gate chart, once the stack outputs are known', () => {
    const gate = synthVariant(DEPLOYED).files.filter((f) => f.name.endsWith('-job-gate.k8s.yaml'));
    expect(gate).toHaveLength(1);
    expect(gate[0].yaml).toMatchSnapshot(gate[0].name);
  });
});

describe.each(variants)('files of $name', ({ synth }) => {
  test('are numbered in apply order, without gaps, and none is empty', () => {
    synth.files.forEach((file, i) => {
      expect(file.name).toMatch(
        new RegExp(`^${String(i).padStart(4, '0')}-[a-z0-9-]+\\.k8s\\.yaml$`),
      );
      expect(file.objects.length).toBeGreaterThan(0);
    });
    expect(synth.files.map((f) => f.name.replace(/^\d{4}-|\.k8s\.yaml$/g, ''))).toEqual(
      synth.manifests.charts.map((c) => c.node.id),
    );
  });

  test('a namespace the app creates comes before every object in it', () => {
    for (const ns of ofKind(synth.objects, 'Namespace')) {
      const created = fileIndexOf(synth, (o) => o === ns);
      const firstUse = fileIndexOf(synth, (o) => o.metadata?.namespace === ns.metadata.name);
      if (firstUse >= 0) expect(created).toBeLessThan(firstUse);
    }
    if (ofKind(synth.objects, 'Namespace').length > 0) {
      expect(synth.files[0].objects.every((o) => o.kind === 'Namespace')).toBe(true);
    }
  });

  test('storage, retention and secret come before the backups that refer to them, and exist', () => {
    const backups = ofKind(synth.objects, 'BackupConfiguration');
    const backupsFile = fileIndexOf(synth, (o) => o.kind === 'BackupConfiguration');
    const exists = (kind: string, ref: { name: string; namespace: string }, before: number) => {
      const at = fileIndexOf(
        synth,
        (o) =>
          o.kind === kind && o.metadata.name === ref.name && o.metadata.namespace === ref.namespace,
      );
      expect({ kind, ...ref, found: at >= 0 && at < before }).toEqual({
        kind,
        ...ref,
        found: true,
      });
    };
    for (const backup of backups) {
      for (const backend of backup.spec.backends) {
        exists('BackupStorage', backend.storageRef, backupsFile);
        exists('RetentionPolicy', backend.retentionPolicy, backupsFile);
      }
      for (const repo of backup.spec.sessions.flatMap((s: KubeObject) => s.repositories)) {
        expect(backup.spec.backends.map((b: KubeObject) => b.name)).toContain(repo.backend);
        if (synth.config.kubernetes.encryptionSecret.fromEnvironment !== undefined) {
          exists('Secret', repo.encryptionSecret, backupsFile);
        }
      }
    }
    for (const restore of ofKind(synth.objects, 'RestoreSession')) {
      const repositories = backups
        .filter((b) => b.metadata.namespace === restore.metadata.namespace)
        .flatMap((b) => b.spec.sessions.flatMap((s: KubeObject) => s.repositories))
        .map((r: KubeObject) => r.name);
      expect(repositories).toContain(restore.spec.dataSource.repository);
    }
  });

  test('no BackupStorage carries secretName: IRSA, not keys', () => {
    const storages = ofKind(synth.objects, 'BackupStorage');
    expect(storages).toHaveLength(1);
    for (const s of storages) {
      expect(s.spec.storage.provider).toBe('s3');
      expect(s.spec.storage.s3).not.toHaveProperty('secretName');
      expect(JSON.stringify(s)).not.toMatch(/secret/i);
    }
  });
});

test('a config without backups, restores, dumps or demo writes only RBAC (reconciler, gate) and storage', () => {
  const { files } = synthExample((c) => {
    c.kubernetes.backups = [];
    c.kubernetes.restores = [];
    c.kubernetes.demoWorkload = { enabled: false };
    c.databaseDumps = [];
  });
  expect(files.map((f) => f.name)).toEqual([
    '0000-reconciler-rbac.k8s.yaml',
    '0001-kubestash-storage.k8s.yaml',
    '0002-job-gate-rbac.k8s.yaml',
  ]);
});

describe('reconciler RBAC', () => {
  const allowed = ['demo', 'team-a', 'team-b'];
  const { objects, config } = synthExample((c) => {
    c.allowedNamespaces = allowed;
    c.kubernetes.reconcilerGroup = 'acme:kubestash-reconciler';
  });

  test('the ClusterRole holds exactly the rules the Kubernetes adapter declares', () => {
    const roles = ofKind(objects, 'ClusterRole');
    expect(roles).toHaveLength(1);
    expect(roles[0].metadata.name).toBe(RECONCILER_ROLE_NAME);
    expect(roles[0].rules).toEqual(
      KUBERNETES_RBAC_RULES.map((r) => ({
        apiGroups: [...r.apiGroups],
        resources: [...r.resources],
        verbs: [...r.verbs],
      })),
    );
  });

  test('one RoleBinding per allowed namespace, to the configured group, and no cluster-wide grant', () => {
    const bindings = ofKind(objects, 'RoleBinding').filter(
      (b) => b.metadata.name === RECONCILER_ROLE_NAME,
    );
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(allowed);
    for (const b of bindings) {
      expect(b.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: RECONCILER_ROLE_NAME,
      });
      expect(b.subjects).toEqual([
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'Group',
          name: config.kubernetes.reconcilerGroup,
        },
      ]);
    }
    expect(ofKind(objects, 'ClusterRoleBinding')).toEqual([]);
    expect(ofKind(objects, 'Role').map((r) => r.metadata.name)).not.toContain(RECONCILER_ROLE_NAME);
    // Nothing else names the group: it is granted in the allowed namespaces only.
    const naming = objects.filter((o) =>
      JSON.stringify(o).includes(config.kubernetes.reconcilerGroup),
    );
    expect(naming.every((o) => o.kind === 'RoleBinding')).toBe(true);
  });
});

describe('job gate RBAC', () => {
  const allowed = ['demo', 'team-a'];
  const { objects, config } = synthExample((c) => {
    c.allowedNamespaces = allowed;
  });

  test('a Role per allowed namespace allowing only get serviceaccounts, bound to the gate group', () => {
    const roles = ofKind(objects, 'Role').filter((r) => r.metadata.name === JOB_GATE_ROLE_NAME);
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(allowed);
    for (const r of roles) {
      expect(r.rules).toEqual([
        { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
      ]);
    }
    const bindings = ofKind(objects, 'RoleBinding').filter(
      (b) => b.metadata.name === JOB_GATE_ROLE_NAME,
    );
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(allowed);
    for (const b of bindings) {
      expect(b.subjects).toEqual([
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: config.kubernetes.gateGroup },
      ]);
    }
  });
});

describe('the KubeStash operator’s seed role', () => {
  test('is annotated through Helm values, never as a ServiceAccount manifest', () => {
    const values = parse(example.manifests.operatorHelmValues) as KubeObject;
    expect(values).toEqual({
      'kubestash-operator': {
        serviceAccount: {
          annotations: { [ROLE_ARN_ANNOTATION]: 'arn:aws:iam::111122223333:role/KubestashRole' },
        },
      },
    });
    expect(
      ofKind(example.objects, 'ServiceAccount').filter(
        (sa) => sa.metadata.name === 'kubestash-kubestash-operator',
      ),
    ).toEqual([]);
    expect(example.manifests.operatorHelmValues).toContain(
      'kubectl annotate -n kubestash serviceaccount kubestash-kubestash-operator',
    );
  });

  test('in another partition and with a chosen seed', () => {
    const { manifests } = synthExample((c) => {
      moveConfigTo(c, 'cn-north-1', 'aws-cn');
      addSeeds(c, { name: 'OtherSeed', operator: { namespace: 'stash' } });
      c.kubernetes.seed = 'OtherSeed';
    });
    const values = parse(manifests.operatorHelmValues) as KubeObject;
    expect(values['kubestash-operator'].serviceAccount.annotations[ROLE_ARN_ANNOTATION]).toBe(
      'arn:aws-cn:iam::111122223333:role/OtherSeed',
    );
    expect(manifests.operatorHelmValues).toContain('-n stash');
  });
});

/**
 * Both apps agree: the ServiceAccount the cdk8s app writes for a database dump
 * is the one subject the stack's DatabaseDumpRole trusts, the annotation names
 * that role, and the CronJob uploads where the role may write.
 */
describe.each([
  { name: 'the example', modify: (_c: MutableConfig) => {} },
  {
    name: 'a dump on a second cluster with its own ServiceAccount',
    modify: MULTI_CLUSTER.modify,
  },
])('both apps agree on the database dumps of $name', ({ modify }) => {
  const k8s = synthExample(modify);
  const { template, config } = synthExampleStack((c) => modify(c as MutableConfig));
  const dumpAccounts = ofKind(k8s.objects, 'ServiceAccount').filter(
    (sa) => sa.metadata.annotations?.[ROLE_ARN_ANNOTATION] !== undefined,
  );
  /** The stack's role of that name, with its logical ID and the policies attached to it. */
  const stackRole = (roleName: string) => {
    const found = Object.entries(template.findResources('AWS::IAM::Role')).find(
      ([, r]) => r.Properties.RoleName === roleName,
    );
    if (found === undefined) throw new Error(`the stack has no role named ${roleName}`);
    const [logicalId, role] = found;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as unknown[]).some(
        (r) => JSON.stringify(r) === JSON.stringify({ Ref: logicalId }),
      ),
    );
    return { role, policies: JSON.stringify(policies) };
  };
  const roleNameOf = (sa: KubeObject): string => {
    const arn: string = sa.metadata.annotations[ROLE_ARN_ANNOTATION];
    const match = /^arn:aws:iam::111122223333:role\/(KubestashIrsa-dump-[a-z0-9-]+)$/.exec(arn);
    if (match === null) throw new Error(`${arn} is not a dump role ARN at the root path`);
    return match[1];
  };

  test('only this cluster’s dumps are written', () => {
    const cluster = k8s.manifests.context.cluster.name;
    const expected = config.databaseDumps.filter((d) => (d.cluster ?? cluster) === cluster);
    expect(expected.length).toBeGreaterThan(0);
    expect(dumpAccounts).toHaveLength(expected.length);
    expect(ofKind(k8s.objects, 'CronJob')).toHaveLength(expected.length);
  });

  test('the annotation names the stack’s role, whose trust is exactly that ServiceAccount', () => {
    for (const sa of dumpAccounts) {
      const { role } = stackRole(roleNameOf(sa));
      expect(role.Properties.Path ?? '/').toBe('/');
      const statements = role.Properties.AssumeRolePolicyDocument.Statement as KubeObject[];
      expect(statements).toHaveLength(1);
      const conditions = statements[0].Condition;
      expect(Object.keys(conditions)).toEqual(['StringEquals']);
      const sub = Object.entries(conditions.StringEquals as Record<string, unknown>).filter(
        ([key]) => key.endsWith(':sub'),
      );
      expect(sub).toEqual([
        [
          expect.stringMatching(/^oidc\.eks\.us-east-1\.amazonaws\.com\/id\/[0-9A-F]+:sub$/),
          `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
        ],
      ]);
    }
  });

  test('the CronJob runs as that ServiceAccount, uploads where the role may write, reads its secret', () => {
    for (const cronJob of ofKind(k8s.objects, 'CronJob')) {
      const pod = cronJob.spec.jobTemplate.spec.template.spec;
      const sa = dumpAccounts.find(
        (a) =>
          a.metadata.name === pod.serviceAccountName &&
          a.metadata.namespace === cronJob.metadata.namespace,
      );
      if (sa === undefined)
        throw new Error(`${pod.serviceAccountName} is not a dump ServiceAccount`);
      const { policies } = stackRole(roleNameOf(sa));
      const env = Object.fromEntries(
        pod.containers[0].env.map((e: KubeObject) => [e.name, e.value]),
      );
      expect(env.BUCKET).toBe(config.bucket.name);
      expect(policies).toContain(`"/${env.KEY_PREFIX}/*"`);
      const providerClass = pod.volumes.find((v: KubeObject) => v.csi !== undefined).csi
        .volumeAttributes.secretProviderClass;
      const spc = ofKind(k8s.objects, 'SecretProviderClass').find(
        (s) =>
          s.metadata.name === providerClass && s.metadata.namespace === cronJob.metadata.namespace,
      );
      const secretArn = /objectName: "([^"]+)"/.exec(spc?.spec.parameters.objects)?.[1];
      expect(secretArn).toMatch(/^arn:aws:secretsmanager:/);
      expect(policies).toContain(JSON.stringify(secretArn));
    }
  });
});

test('the EKS access entries map the reconciler and the gate to the groups the RoleBindings name', () => {
  const { template, config } = synthExampleStack();
  const entries = Object.values(template.findResources('AWS::EKS::AccessEntry'));
  expect(entries.map((e) => e.Properties.KubernetesGroups)).toEqual([
    [config.kubernetes.reconcilerGroup],
    [config.kubernetes.gateGroup],
  ]);
  const bound = ofKind(example.objects, 'RoleBinding').map((b) => b.subjects[0].name);
  expect(new Set(bound)).toEqual(
    new Set([config.kubernetes.reconcilerGroup, config.kubernetes.gateGroup]),
  );
});

describe('the restic password', () => {
  test('is only referenced by default: no Secret, no warning', () => {
    expect(ofKind(example.objects, 'Secret')).toEqual([]);
    expect(example.warnings).toEqual([]);
    const refs = ofKind(example.objects, 'BackupConfiguration').flatMap((b) =>
      b.spec.sessions.flatMap((s: KubeObject) =>
        s.repositories.map((r: KubeObject) => r.encryptionSecret),
      ),
    );
    expect(refs).toEqual([{ name: 'encrypt-secret', namespace: 'demo' }]);
  });

  const fromEnv = (c: MutableConfig) => {
    c.kubernetes.encryptionSecret = { fromEnvironment: 'KS_RESTIC_PASSWORD' };
  };

  test('is written from the environment only when asked, with a warning', () => {
    const synth = synthExample(fromEnv, { env: { KS_RESTIC_PASSWORD: TEST_RESTIC_PASSWORD } });
    const secrets = ofKind(synth.objects, 'Secret');
    expect(secrets).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'encrypt-secret', namespace: 'demo' }),
        type: 'Opaque',
        stringData: { RESTIC_PASSWORD: TEST_RESTIC_PASSWORD },
      }),
    ]);
    // The password is in that one object, in the storage file, nowhere else.
    const holding = synth.files.filter((f) => f.yaml.includes(TEST_RESTIC_PASSWORD));
    expect(holding.map((f) => f.name)).toEqual(['0002-kubestash-storage.k8s.yaml']);
    expect(synth.warnings).toHaveLength(1);
    expect(synth.warnings[0]).toContain('$KS_RESTIC_PASSWORD');
    expect(synth.warnings[0]).toContain('keep dist/ out of version control');
  });

  test.each([
    ['unset', {}],
    ['empty', { KS_RESTIC_PASSWORD: '' }],
  ])('is a clear error when the variable is %s', (_case, env) => {
    let error: unknown;
    try {
      synthExample(fromEnv, { env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const [problem] = (error as ConfigError).problems;
    expect(problem).toContain('config.kubernetes.encryptionSecret.fromEnvironment');
    expect(problem).toContain('"KS_RESTIC_PASSWORD"');
    expect(problem).toContain('kubectl create secret generic encrypt-secret');
  });

  test('is refused when too short to protect anything', () => {
    expect(() => synthExample(fromEnv, { env: { KS_RESTIC_PASSWORD: 'short' } })).toThrow(
      /5 characters; use at least 16/,
    );
  });
});
