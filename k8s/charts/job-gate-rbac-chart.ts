import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { GATE_RBAC_RULES } from '../../lambda/adapters/kubernetes/kubernetes-rbac-rules';

export const JOB_GATE_ROLE_NAME = 'kubestash-irsa-job-gate';

export interface JobGateRbacChartProps extends ChartProps {
  /** The Kubernetes group the stack's EKS access entries map the gate's IAM role to. */
  readonly group: string;
  /** The only namespaces whose ServiceAccounts the gate may read. */
  readonly namespaces: readonly string[];
}

/**
 * What the job gate may do in the cluster: `get serviceaccounts`
 * (GATE_RBAC_RULES), in a Role and RoleBinding per allowed namespace, so it
 * reads the ServiceAccount of a Job at admission and nothing else.
 */
export class JobGateRbacChart extends Chart {
  constructor(scope: Construct, id: string, props: JobGateRbacChartProps) {
    super(scope, id, props);
    if (props.namespaces.length === 0) {
      throw new Error(
        'JobGateRbacChart: give at least one namespace (allowedNamespaces in the config)',
      );
    }
    for (const namespace of props.namespaces) {
      const role = new k8s.KubeRole(this, `Role-${namespace}`, {
        metadata: { name: JOB_GATE_ROLE_NAME, namespace },
        rules: GATE_RBAC_RULES.map((r) => ({
          apiGroups: [...r.apiGroups],
          resources: [...r.resources],
          verbs: [...r.verbs],
        })),
      });
      new k8s.KubeRoleBinding(this, `Binding-${namespace}`, {
        metadata: { name: JOB_GATE_ROLE_NAME, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: props.group }],
      });
    }
  }
}
