import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { EksPodIdentityHandler } from './eks-pod-identity-handler';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG } from './moto-server';

/**
 * An EKS client on moto_server whose Pod Identity calls EksPodIdentityHandler
 * answers (moto has none), with the named clusters created in moto.
 */
export async function motoEksWithPodIdentity(
  endpoint: string,
  clusters: readonly string[],
  options: ConstructorParameters<typeof EksPodIdentityHandler>[0] = {},
): Promise<{ eks: EKSClient; handler: EksPodIdentityHandler }> {
  const handler = new EksPodIdentityHandler(options);
  const eks = new EKSClient({
    ...MOTO_CLIENT_CONFIG,
    endpoint,
    requestHandler: handler,
    maxAttempts: 3,
  });
  for (const name of clusters) {
    await eks.send(
      new CreateClusterCommand({
        name,
        roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/eks-cluster`,
        resourcesVpcConfig: { subnetIds: ['subnet-00000001'] },
      }),
    );
  }
  return { eks, handler };
}
