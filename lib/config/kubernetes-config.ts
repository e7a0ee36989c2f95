import { z } from 'zod';

/**
 * The Kubernetes side of the configuration: what the cdk8s app synthesizes.
 * The CDK stack reads only `reconcilerGroup` (its EKS access entries map the
 * reconciler's IAM role to that Kubernetes group).
 */
export const kubernetesConfigSchema = z.strictObject({
  reconcilerGroup: z
    .string()
    .regex(
      /^[a-z0-9]([-a-z0-9:.]*[a-z0-9])?$/,
      'a Kubernetes group name is lowercase letters, digits, "-", ":" and "."',
    )
    .default('kubestash-irsa:reconciler'),
});

export type KubernetesConfig = z.output<typeof kubernetesConfigSchema>;
