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
 * belongs to its pod alone. The kubelet creates a `DirectoryOrCreate` hostPath
 * as root with mode 0755 (https://kubernetes.io/docs/concepts/storage/volumes/#hostpath),
 * and fsGroup does not apply to hostPath volumes, so a root init container
 * with only CAP_CHOWN hands the directory to the writer's uid and gid first;
 * without it the writer (uid 65534) could not write and would crash-loop.
 */
export class DemoWorkloadChart extends Chart {
  /** The writer's uid and gid: nobody, not root. */
  static readonly WRITER_ID = 65534;
  private static readonly DATA_PATH = '/source/data';

  constructor(scope: Construct, id: string, props: DemoWorkloadChartProps) {
    super(scope, id, { ...props, namespace: props.namespace });
    const labels = { 'app.kubernetes.io/name': props.name };
    const image = props.image ?? 'busybox:1.37';
    const id65534 = DemoWorkloadChart.WRITER_ID;
    const dataPath = DemoWorkloadChart.DATA_PATH;
    const dataMount = { name: 'data', mountPath: dataPath };
    const small = {
      requests: { cpu: k8s.Quantity.fromString('10m'), memory: k8s.Quantity.fromString('16Mi') },
      limits: { cpu: k8s.Quantity.fromString('50m'), memory: k8s.Quantity.fromString('32Mi') },
    };
    new k8s.KubeDaemonSet(this, 'DaemonSet', {
      metadata: { name: props.name },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            initContainers: [
              {
                name: 'own-data-dir',
                image,
                command: ['/bin/sh', '-c'],
                args: [`chown ${id65534}:${id65534} ${dataPath} && chmod 0750 ${dataPath}`],
                resources: small,
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: false,
                  runAsUser: 0,
                  // chown needs CAP_CHOWN; chmod after it, of a directory it no longer owns, CAP_FOWNER.
                  capabilities: { drop: ['ALL'], add: ['CHOWN', 'FOWNER'] },
                },
                volumeMounts: [dataMount],
              },
            ],
            containers: [
              {
                name: 'writer',
                image,
                command: ['/bin/sh', '-c'],
                args: [`echo sample_data > ${dataPath}/data.txt && exec sleep 2147483647`],
                resources: small,
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  runAsUser: id65534,
                  runAsGroup: id65534,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [dataMount],
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
