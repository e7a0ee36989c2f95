import type { Chart } from 'cdk8s';
import { stringify } from 'yaml';

/** The directory beside dist/ that holds what must exist before `kubectl apply -f dist/`. */
export const PREREQUISITES_DIR = 'prerequisites';
/** The file in {@link PREREQUISITES_DIR} that creates the namespaces the manifests use. */
export const NAMESPACES_FILE = 'namespaces.yaml';

/**
 * Every namespace an object of `charts` is put in, sorted. kubectl refuses a
 * namespaced object whose namespace does not exist (the NamespaceLifecycle
 * admission plugin: https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#namespacelifecycle),
 * so these must exist before dist/ is applied.
 */
export function namespacesUsed(charts: readonly Chart[]): string[] {
  const used = new Set<string>();
  for (const chart of charts) {
    for (const object of chart.toJson() as { metadata?: { namespace?: unknown } }[]) {
      const ns = object.metadata?.namespace;
      if (typeof ns === 'string' && ns !== '') used.add(ns);
    }
  }
  return [...used].sort();
}

/**
 * The Namespace objects for `namespaces`, as one YAML stream to apply before
 * dist/. It lives outside dist/ on purpose: the backed-up workloads' namespaces
 * are not this app's, and `kubectl delete -f dist/` must never take them away.
 * Applying it where they already exist changes nothing but kubectl's
 * last-applied annotation.
 */
export function namespacesYaml(namespaces: readonly string[]): string {
  return [
    '# Namespaces the manifests in dist/ put objects in. Apply before dist/:',
    `#   kubectl apply -f ${PREREQUISITES_DIR}/${NAMESPACES_FILE}`,
    '# Not in dist/, so `kubectl delete -f dist/` never deletes a workload namespace.',
    ...namespaces.map((name) =>
      [
        '---',
        stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).trimEnd(),
      ].join('\n'),
    ),
    '',
  ].join('\n');
}
