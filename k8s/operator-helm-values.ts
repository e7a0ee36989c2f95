import { stringify } from 'yaml';
import { ROLE_ARN_ANNOTATION } from '../lambda/ports/annotations';

export interface OperatorHelmValuesOptions {
  readonly seedRoleArn: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/**
 * The seed role annotation for the KubeStash operator's ServiceAccount, as
 * Helm values rather than as a ServiceAccount manifest: that ServiceAccount
 * belongs to the KubeStash Helm release, and a second owner applying the
 * whole object would fight every `helm upgrade`. The values go through the
 * release instead; the comment carries the one-off alternative.
 */
export function operatorHelmValues(options: OperatorHelmValuesOptions): string {
  const values = {
    'kubestash-operator': {
      serviceAccount: { annotations: { [ROLE_ARN_ANNOTATION]: options.seedRoleArn } },
    },
  };
  return [
    '# Helm values for the KubeStash release (chart appscode/kubestash): they annotate',
    `# the operator ServiceAccount ${options.namespace}/${options.serviceAccount} with the seed role.`,
    '#   helm upgrade kubestash oci://ghcr.io/appscode-charts/kubestash -n ' +
      `${options.namespace} --reuse-values -f <this file>`,
    `#   kubectl rollout restart deployment -n ${options.namespace}   # IRSA applies to new pods only`,
    '# Without Helm (the next helm upgrade keeps it, as it only patches what it manages):',
    `#   kubectl annotate -n ${options.namespace} serviceaccount ${options.serviceAccount} --overwrite \\`,
    `#     ${ROLE_ARN_ANNOTATION}=${options.seedRoleArn}`,
    stringify(values).trimEnd(),
    '',
  ].join('\n');
}
