import {
  isCoreKind,
  metadataProblems,
  schemaProblems,
  unknownFields,
} from '../support/core-objects';
import { ofKind, synthExample } from '../support/k8s-manifests';
import type { KubeObject } from '../support/k8s-manifests';
import { CONFIG_VARIANTS, synthVariant } from '../support/k8s-variants';
import { secretProviderClassProblems } from '../support/secret-provider-class';

/**
 * Core objects (and the untyped SecretProviderClass) validate offline: the
 * Kubernetes schemas through kubernetes-models, unknown fields through its
 * declared types, metadata through the API server's naming rules.
 */

function problemsOf(obj: KubeObject): string[] {
  if (obj.kind === 'SecretProviderClass') {
    return [...secretProviderClassProblems(obj), ...metadataProblems(obj)];
  }
  return [
    ...schemaProblems(obj),
    ...unknownFields(obj).map((p) => `${p}: not a field of ${obj.kind}`),
    ...metadataProblems(obj),
  ];
}

function isValidatedHere(obj: KubeObject): boolean {
  return isCoreKind(obj) || obj.kind === 'SecretProviderClass';
}

describe.each(CONFIG_VARIANTS)('manifests of $name', (variant) => {
  const { objects } = synthVariant(variant);
  const others = objects.filter((o) => !/(^|\.)kubestash\.com\//.test(String(o.apiVersion)));

  test('every object that is not KubeStash’s is a kind validated here', () => {
    expect(
      others.filter((o) => !isValidatedHere(o)).map((o) => `${o.apiVersion} ${o.kind}`),
    ).toEqual([]);
  });

  test('every core object validates: schema, no unknown field, metadata', () => {
    const problems = Object.fromEntries(
      others
        .map((o) => [`${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`, problemsOf(o)])
        .filter(([, p]) => p.length > 0),
    );
    expect(problems).toEqual({});
  });
});

test('the variants write every core kind the app knows', () => {
  const all = CONFIG_VARIANTS.flatMap((v) => synthVariant(v).objects);
  const kinds = new Set(all.filter(isValidatedHere).map((o) => o.kind));
  expect([...kinds].sort()).toEqual([
    'ClusterRole',
    'CronJob',
    'DaemonSet',
    'MutatingWebhookConfiguration',
    'Namespace',
    'Role',
    'RoleBinding',
    'Secret',
    'SecretProviderClass',
    'ServiceAccount',
  ]);
});

describe('the checks catch what they are for', () => {
  const { objects } = synthExample();
  const pick = (kind: string): KubeObject => structuredClone(ofKind(objects, kind)[0]);

  test('a misspelled field in a container is an unknown field (kubernetes-models alone accepts it)', () => {
    const cronJob = pick('CronJob');
    const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0];
    container.imagePullPolicy = 'IfNotPresent';
    expect(unknownFields(cronJob)).toEqual([]);
    container.readOnlyRootFileSystem = true;
    container.securityContext.readOnlyRootFileSystem = true;
    expect(schemaProblems(cronJob)).toEqual([]);
    expect(unknownFields(cronJob).sort()).toEqual([
      '/spec/jobTemplate/spec/template/spec/containers/0/readOnlyRootFileSystem',
      '/spec/jobTemplate/spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem',
    ]);
  });

  test('maps take any key: labels, annotations, resource limits, emptyDir', () => {
    const daemonSet = pick('DaemonSet');
    daemonSet.metadata.annotations = { 'example.com/anything': 'x' };
    daemonSet.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu'] = '1';
    daemonSet.spec.template.metadata.labels['tier'] = 'demo';
    expect(unknownFields(daemonSet)).toEqual([]);
  });

  test('wrong types and bad quantities fail the kubernetes-models schema', () => {
    const daemonSet = pick('DaemonSet');
    daemonSet.spec.template.spec.containers[0].resources.limits.memory = 'lots';
    daemonSet.spec.template.spec.automountServiceAccountToken = 'no';
    const [message] = schemaProblems(daemonSet);
    expect(message).toContain('automountServiceAccountToken must be boolean');
    expect(message).toContain('limits/memory must match format "quantity"');
  });

  test('a missing required field fails (RoleBinding without roleRef)', () => {
    const binding = pick('RoleBinding');
    delete binding.roleRef;
    expect(schemaProblems(binding).join()).toContain('must have required property roleRef');
  });

  test('bad names, namespaces and labels fail the metadata rules', () => {
    const account = pick('ServiceAccount');
    account.metadata.name = 'App_DB';
    account.metadata.namespace = 'a'.repeat(64);
    account.metadata.labels['app.kubernetes.io/part-of'] = 'not a label value';
    expect(metadataProblems(account)).toEqual([
      'metadata.name: "App_DB" is not a valid ServiceAccount name',
      `metadata.namespace: "${'a'.repeat(64)}" is not a DNS label`,
      'metadata.labels.app.kubernetes.io/part-of: "not a label value" is not a label value',
    ]);
    const namespace = pick('Namespace');
    namespace.metadata.name = 'has.a.dot';
    expect(metadataProblems(namespace)).toEqual([
      'metadata.name: "has.a.dot" is not a valid Namespace name',
    ]);
  });

  test('a SecretProviderClass with a misspelled field, or a bad AWS objects entry, fails', () => {
    const good = pick('SecretProviderClass');
    expect(secretProviderClassProblems(good)).toEqual([]);
    const typo = structuredClone(good);
    typo.spec.paramters = typo.spec.parameters;
    delete typo.spec.parameters;
    expect(secretProviderClassProblems(typo)).toEqual(
      expect.arrayContaining(["/spec: must have required property 'parameters'"]),
    );
    const alias = structuredClone(good);
    alias.spec.parameters.objects = alias.spec.parameters.objects.replace(
      'objectType: secretsmanager',
      'objectTyp: secretsmanager',
    );
    expect(secretProviderClassProblems(alias)).toEqual([
      'spec.parameters.objects/0: must NOT have additional properties',
    ]);
  });
});
