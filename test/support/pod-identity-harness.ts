import { IAMClient } from '@aws-sdk/client-iam';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { EksPodIdentityAdapter } from '../../lambda/adapters/eks/eks-pod-identity-adapter';
import { IamAdapter } from '../../lambda/adapters/iam/iam-adapter';
import { createReconcileHandler } from '../../lambda/handlers/reconcile';
import { POD_IDENTITY_ASSOCIATION_ANNOTATION } from '../../lambda/ports/annotations';
import { reconcilePodIdentitySeed } from '../../lambda/reconciler/reconcile-pod-identity-seed';
import { reconcileSeed } from '../../lambda/reconciler/reconcile-seed';
import type { EksPodIdentityHandler } from './eks-pod-identity-handler';
import { startConnectedTestServer } from './kubernetes-test-server';
import { motoEksWithPodIdentity } from './moto-eks';
import { createSeedRole } from './moto-seed';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG } from './moto-server';

const TOKEN = 'k8s-aws-v1.pod-identity';
export const POD_CLUSTER = 'auto-cluster';
export const POD_SEED = 'KubestashRole';
export const POD_SEED_ARN = `arn:aws:iam::${MOTO_ACCOUNT}:role/${POD_SEED}`;

/**
 * The real reconcile handler with a pod-identity seed, against moto_server
 * (IAM, and EKS with Pod Identity played by EksPodIdentityHandler) and the
 * local Kubernetes test server, for the tests and `npm run bench:pod-identity`.
 */
export async function podIdentityHarness(
  motoEndpoint: string,
  options: {
    readonly quota?: number;
    readonly settleSeconds?: number;
    readonly gate?: boolean;
    readonly sleep?: (ms: number) => Promise<void>;
  } = {},
) {
  const { server, kube } = await startConnectedTestServer({ token: TOKEN });
  const iamClient = new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: motoEndpoint });
  await createSeedRole(iamClient);
  const { eks, handler } = await motoEksWithPodIdentity(motoEndpoint, [POD_CLUSTER], {
    quota: options.quota,
  });
  const iam = new IamAdapter(iamClient);
  const adapter = new EksPodIdentityAdapter(eks);
  const handle = createReconcileHandler({
    env: {
      RECONCILER_SEEDS: [
        {
          name: POD_SEED,
          conditionOperator: 'StringLike',
          mode: 'pod-identity',
          podIdentity: {
            settleSeconds: options.settleSeconds ?? 0,
            associationQuotas: { [POD_CLUSTER]: options.quota ?? 5000 },
          },
          clusters: [
            {
              name: POD_CLUSTER,
              issuer: 'oidc.eks.us-east-1.amazonaws.com/id/AUTO',
              providerArn: `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AUTO`,
            },
          ],
        },
      ],
      EMPTY_ROLE_GRACE_SECONDS: 3600,
      ...(options.gate === true ? { GATE_STUCK_AFTER_SECONDS: 600 } : {}),
    },
    reconcile: (seed, o) =>
      reconcileSeed({ iam, kubernetes: () => kube, now: () => new Date() }, seed, o),
    reconcilePodIdentity: (seed, o) =>
      reconcilePodIdentitySeed(
        { iam, eks: adapter, kubernetes: () => kube, now: () => new Date(), sleep: options.sleep },
        seed,
        o,
      ),
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Test', serviceName: 'reconciler' }),
  });
  let message = 0;
  /** One SQS batch of events naming the seed (their content only says where to look). */
  const deliver = async (names: readonly string[]) => {
    const records = names.map(
      (name) =>
        ({
          messageId: `m-${message++}`,
          body: JSON.stringify({
            source: 'kubestash-irsa',
            'detail-type': 'ServiceAccount Changed',
            // No time: the event is never coalesced away, each batch gets its pass.
            detail: {
              seed: POD_SEED,
              cluster: POD_CLUSTER,
              namespace: 'demo',
              name,
              operation: 'create',
            },
          }),
        }) as SQSRecord,
    );
    return handle({ Records: records });
  };
  const associated = (name: string): string | undefined => {
    const sa = server.serviceAccount('demo', name) as
      { metadata?: { annotations?: Record<string, string> } } | undefined;
    return sa?.metadata?.annotations?.[POD_IDENTITY_ASSOCIATION_ANNOTATION];
  };
  return {
    server,
    eksHandler: handler as EksPodIdentityHandler,
    deliver,
    associated,
    close: async () => {
      await kube.close();
      await server.stop();
    },
  };
}
