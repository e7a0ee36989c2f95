import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { KUBERNETES_RBAC_RULES } from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';
import type { KubernetesPolicyRule } from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';

export const RECONCILER_ROLE_NAME = 'kubestash-irsa-reconciler';

export interface ReconcilerRbacChartProps extends ChartProps {
  /** The Kubernetes group the stack's EKS access entry maps the reconciler's IAM role to. */
  readonly group: string;
  /** The only namespaces the reconciler may act in. */
  readonly namespaces: readonly string[];
  /** @default KUBERNETES_RBAC_RULES, the rules the adapter declares it needs */
  readonly rules?: readonly KubernetesPolicyRule[];
}

/**
 * What the reconciler may do in the cluster: the adapter's own rules, defined
 * once as a ClusterRole and granted only in the allowed namespaces through a
 * RoleBinding in each, so it can touch nothing elsewhere.
 */
export class ReconcilerRbacChart extends Chart {
  constructor(scope: Construct, id: string, props: ReconcilerRbacChartProps) {
    super(scope, id, props);
    if (props.namespaces.length === 0) {
      throw new Error(
        'ReconcilerRbacChart: give at least one namespace (allowedNamespaces in the config)',
      );
    }
    const rules = props.rules ?? KUBERNETES_RBAC_RULES;
    const role = new k8s.KubeClusterRole(this, 'Role', {
      metadata: { name: RECONCILER_ROLE_NAME },
      rules: rules.map((r) => ({
        apiGroups: [...r.apiGroups],
        resources: [...r.resources],
        verbs: [...r.verbs],
      })),
    });
    for (const namespace of props.namespaces) {
      new k8s.KubeRoleBinding(this, `Binding-${namespace}`, {
        metadata: { name: RECONCILER_ROLE_NAME, namespace },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: role.name,
        },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: props.group }],
      });
    }
  }
}
