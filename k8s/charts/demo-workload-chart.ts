import { Chart } from 'cdk8s';
import type { ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';

export interface DemoWorkloadChartProps extends ChartProps {
  readonly name: string;
  readonly namespace: string;
  /** @default 'busybox:1.37' */
  readonly image?: string;
}

/**
 * Seed 000's `ks-demo`: a DaemonSet that writes a known file under
 * /source/data, something to back up, delete and restore when trying the
 * system out. Off unless `kubernetes.demoWorkload.enabled` is true.
 *
 * The data lives on a hostPath, not an emptyDir: KubeStash backs a DaemonSet
 * up with a Job per node that mounts the workload's volumes, and an emptyDir
 * belongs to its pod alone.
 */
export class DemoWorkloadChart extends Chart {
  constructor(scope: Construct, id: string, props: DemoWorkloadChartProps) {
    super(scope, id, { ...props, namespace: props.namespace });
    const labels = { 'app.kubernetes.io/name': props.name };
    new k8s.KubeDaemonSet(this, 'DaemonSet', {
      metadata: { name: props.name },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            containers: [
              {
                name: 'writer',
                image: props.image ?? 'busybox:1.37',
                command: ['/bin/sh', '-c'],
                args: ['echo sample_data > /source/data/data.txt && exec sleep 2147483647'],
                resources: {
                  requests: {
                    cpu: k8s.Quantity.fromString('10m'),
                    memory: k8s.Quantity.fromString('16Mi'),
                  },
                  limits: {
                    cpu: k8s.Quantity.fromString('50m'),
                    memory: k8s.Quantity.fromString('32Mi'),
                  },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  runAsNonRoot: true,
                  runAsUser: 65534,
                },
                volumeMounts: [{ name: 'data', mountPath: '/source/data' }],
              },
            ],
            volumes: [
              {
                name: 'data',
                hostPath: { path: `/var/lib/${props.name}`, type: 'DirectoryOrCreate' },
              },
            ],
          },
        },
      },
    });
  }
}
