import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';

export interface NamespacesChartProps extends ChartProps {
  readonly namespaces: readonly string[];
}

/**
 * The namespaces this app owns (database dumps, the demo workload). The
 * namespaces of the workloads being backed up are not created here: they
 * belong to those workloads, and `kubectl delete -f dist/` must never take
 * them away.
 */
export class NamespacesChart extends Chart {
  constructor(scope: Construct, id: string, props: NamespacesChartProps) {
    super(scope, id, props);
    for (const name of [...new Set(props.namespaces)].sort()) {
      new k8s.KubeNamespace(this, name, { metadata: { name } });
    }
  }
}
