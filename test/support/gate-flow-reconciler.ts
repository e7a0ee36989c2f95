import { performance } from 'node:perf_hooks';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { IamAdapter } from '../../lambda/adapters/iam/iam-adapter';
import type { KubernetesHttpClient } from '../../lambda/adapters/kubernetes/kubernetes-http-client';
import { StsWebIdentity } from '../../lambda/adapters/sts/sts-web-identity';
import { createReconcileHandler } from '../../lambda/handlers/reconcile';
import { reconcileSeed } from '../../lambda/reconciler/reconcile-seed';
import { asSqsRecord } from './moto-pipeline';
import type { MotoPipeline } from './moto-pipeline';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG } from './moto-server';

/** The cluster GateFlow's seed names, and its OIDC issuer (the fixture Jobs run there). */
export const FLOW_CLUSTER = 'prod-cluster';
const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/GATEFLOW';

/** What the reconciler's side of GateFlow reports to it, wherever it runs. */
export interface EventSourceHooks {
  /** One ReceiveMessage + DeleteMessageBatch of the poll took `ms` milliseconds. */
  onReceive(ms: number): void;
  /** The reconcile handler finished a batch (its writes have reached the API server). */
  onBatch(): void;
}

/**
 * The real reconcile handler as GateFlow's seed deploys it: IAM and STS on the
 * moto at `motoEndpoint` (clients of its own), the cluster through `kube`;
 * `onPass` is called as each reconcile pass starts (one per seed per batch at
 * most, fewer when events coalesce).
 */
export function createFlowReconciler(
  motoEndpoint: string,
  kube: KubernetesHttpClient,
  onPass: () => void,
): ReturnType<typeof createReconcileHandler> {
  const iam = new IamAdapter(new IAMClient({ ...MOTO_CLIENT_CONFIG, endpoint: motoEndpoint }));
  const webIdentity = new StsWebIdentity(
    new STSClient({ ...MOTO_CLIENT_CONFIG, endpoint: motoEndpoint }),
  );
  return createReconcileHandler({
    env: {
      RECONCILER_SEEDS: [
        {
          name: 'KubestashRole',
          conditionOperator: 'StringLike',
          clusters: [
            {
              name: FLOW_CLUSTER,
              issuer: ISSUER,
              providerArn: `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/${ISSUER}`,
            },
          ],
        },
      ],
      EMPTY_ROLE_GRACE_SECONDS: 3600,
      GATE_STUCK_AFTER_SECONDS: 1800,
      GATE_PROOF_ATTEMPTS: 10,
      GATE_PROOF_DELAY_MS: 3000,
    },
    reconcile: (seed, options) => {
      onPass();
      return reconcileSeed(
        { iam, kubernetes: () => kube, webIdentity, now: () => new Date() },
        seed,
        options,
      );
    },
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'GateFlow', serviceName: 'gate-flow' }),
  });
}

/**
 * The Lambda event source: reads the FIFO queue in batches of up to ten and
 * hands each to the reconcile handler, reporting to `hooks`. The message body
 * goes through as the queue holds it.
 */
export class EventSourcePoller {
  constructor(
    private readonly pipeline: MotoPipeline,
    private readonly reconcile: ReturnType<typeof createReconcileHandler>,
    private readonly hooks: EventSourceHooks,
  ) {}

  /**
   * Batches until the queue is empty. Returns how many.
   * @throws when the handler reports a failed item (GateFlow's runs have none)
   */
  async drain(): Promise<number> {
    let batches = 0;
    while (await this.step()) batches++;
    return batches;
  }

  /**
   * Short polls 20 ms apart while `more()` holds (checked before each), each
   * batch as it comes. Returns the batches.
   * @throws when the handler reports a failed item, or what `more` throws
   */
  async pollWhile(more: () => boolean): Promise<number> {
    let batches = 0;
    while (more()) {
      // Short polls: moto's long poll holds the queue's lock and slowed its deliveries.
      if (await this.step()) batches++;
      else await new Promise((r) => setTimeout(r, 20));
    }
    return batches;
  }

  /** One poll, and its batch through the handler if it brought one. Returns whether it did. */
  private async step(): Promise<boolean> {
    const started = performance.now();
    const messages = await this.pipeline.receive();
    this.hooks.onReceive(performance.now() - started);
    if (messages.length === 0) return false;
    const out = await this.reconcile({ Records: messages.map(asSqsRecord) });
    if (out.batchItemFailures.length > 0) throw new Error('a reconcile batch failed');
    this.hooks.onBatch();
    return true;
  }
}
