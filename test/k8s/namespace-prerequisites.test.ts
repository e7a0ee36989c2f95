import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../lib/config';
import { namespacesYaml } from '../../k8s/namespace-prerequisites';
import { jobGateTokenOutput } from '../../k8s/stack-outputs';
import { PROJECT_DIR, cdkJsonContext } from '../support/example-app';
import { CRD_DIR, parseObjects, synthConfig } from '../support/k8s-manifests';
import type { KubeObject } from '../support/k8s-manifests';

/** Kinds an empty EKS cluster serves before anything is installed, with whether they are namespaced. */
const BUILT_IN_KINDS: Record<string, boolean> = {
  Namespace: false,
  ClusterRole: false,
  ClusterRoleBinding: false,
  MutatingWebhookConfiguration: false,
  Role: true,
  RoleBinding: true,
  ServiceAccount: true,
  Secret: true,
  ConfigMap: true,
  CronJob: true,
  Job: true,
  DaemonSet: true,
  Deployment: true,
};

/** The KubeStash kinds the CRDs in k8s/crds/ add (all namespaced). */
function crdKinds(): Set<string> {
  return new Set(
    fs
      .readdirSync(CRD_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseObjects(fs.readFileSync(path.join(CRD_DIR, f), 'utf8')))
      .map((crd) => crd.spec.names.kind as string),
  );
}

/**
 * Plays `kubectl apply` of the files in order on an empty cluster that has only
 * the KubeStash CRDs: the API server refuses a namespaced object whose
 * namespace does not exist yet (NamespaceLifecycle) and an object of a kind it
 * does not serve. Returns the refusals. Not modelled: validation beyond kind
 * and namespace (the schema tests cover it), the Secrets Store CSI driver's
 * SecretProviderClass kind (a prerequisite of database dumps, in the README).
 */
function applyOnEmptyCluster(files: readonly (readonly KubeObject[])[]): string[] {
  const kubestash = crdKinds();
  const namespaces = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
  const refusals: string[] = [];
  for (const objects of files) {
    for (const o of objects) {
      const name = `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      const served =
        o.kind in BUILT_IN_KINDS || kubestash.has(o.kind) || o.kind === 'SecretProviderClass';
      if (!served) refusals.push(`${name}: no such kind`);
      const ns = o.metadata.namespace as string | undefined;
      if (ns !== undefined && !namespaces.has(ns))
        refusals.push(`${name}: namespace ${ns} not found`);
      if (o.kind === 'Namespace') namespaces.add(o.metadata.name);
    }
  }
  return refusals;
}

const shipped: [string, Record<string, unknown>][] = [
  ['cdk.json', cdkJsonContext()],
  ...fs
    .readdirSync(path.join(PROJECT_DIR, 'examples', 'config'))
    .filter((f) => f.endsWith('.json'))
    .map((f): [string, Record<string, unknown>] => [
      `examples/config/${f}`,
      { configFile: path.join(PROJECT_DIR, 'examples', 'config', f) },
    ]),
];

describe('every shipped config applies in order on an empty cluster with only the KubeStash CRDs', () => {
  test.each(shipped)('%s, before and after cdk deploy', (_name, context) => {
    const config = loadConfig(context, PROJECT_DIR);
    // What `cdk deploy --outputs-file` records: the gate's URL and each cluster's token secret.
    const deployed = {
      JobGateUrl: 'https://abc.lambda-url.us-east-1.on.aws/',
      ...Object.fromEntries(
        config.clusters.map((c) => [
          jobGateTokenOutput(c.name),
          `arn:aws:secretsmanager:us-east-1:111122223333:secret:gate-token-${c.name}-AbCdEf`,
        ]),
      ),
    };
    for (const stackOutputs of [undefined, deployed]) {
      const synth = synthConfig(config, { stackOutputs });
      const prerequisites = parseObjects(namespacesYaml(synth.manifests.namespaces));
      expect(applyOnEmptyCluster([prerequisites, ...synth.files.map((f) => f.objects)])).toEqual(
        [],
      );
    }
  });

  test('without the prerequisites, a namespace no file creates is refused (the model can fail)', () => {
    const config = loadConfig(shipped[1][1], PROJECT_DIR);
    const synth = synthConfig(config);
    expect(applyOnEmptyCluster(synth.files.map((f) => f.objects))).toContainEqual(
      expect.stringMatching(/namespace \S+ not found$/),
    );
  });

  test('namespacesYaml writes one Namespace per name, nothing else', () => {
    expect(parseObjects(namespacesYaml(['a', 'b']))).toEqual([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } },
    ]);
  });
});
