/** One rule of a Kubernetes Role, as `rbac.authorization.k8s.io/v1` spells it. */
export interface KubernetesPolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/**
 * Every permission the Kubernetes adapter uses, and no other: the cdk8s app
 * binds exactly these in a namespaced Role per allowed namespace, and the tests
 * check that each request the adapter makes is covered and that each verb
 * here is used. Names cannot be pinned (`resourceNames`): KubeStash invents a
 * ServiceAccount and a Job per session.
 */
export const KUBERNETES_RBAC_RULES: readonly KubernetesPolicyRule[] = [
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'patch'] },
  // TokenRequest: a token for a Job's ServiceAccount proves IAM accepts it before the Job runs.
  { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'patch'] },
];

/**
 * The job gate's only permission: read the ServiceAccount a Job runs as, to
 * decide at admission whether the Job waits for a role. The cdk8s app binds
 * it in a Role per allowed namespace to the gate's group.
 */
export const GATE_RBAC_RULES: readonly KubernetesPolicyRule[] = [
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
];

/** Whether the rules allow `verb` on `resource` (`name/subresource` for subresources) in `apiGroup`. */
export function rbacAllows(
  rules: readonly KubernetesPolicyRule[],
  apiGroup: string,
  resource: string,
  verb: string,
): boolean {
  return rules.some(
    (rule) =>
      (rule.apiGroups.includes(apiGroup) || rule.apiGroups.includes('*')) &&
      (rule.resources.includes(resource) || rule.resources.includes('*')) &&
      (rule.verbs.includes(verb) || rule.verbs.includes('*')),
  );
}
