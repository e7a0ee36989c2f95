import { parentPort, workerData } from 'node:worker_threads';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgePublisher } from '../../lambda/adapters/eventbridge/event-bridge-publisher';
import { KubernetesHttpClient } from '../../lambda/adapters/kubernetes/kubernetes-http-client';
import { createJobGateHandler } from '../../lambda/handlers/job-gate';
import { SETTINGS, fixtureTokens } from './gate-fixtures';
import { PIPELINE_BUS } from './moto-pipeline';
import { MOTO_CLIENT_CONFIG } from './moto-server';

/** What GateFlow hands the gate's thread: where moto's bus and the API server are. */
export interface GateWorkerData {
  readonly eventsEndpoint: string;
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
}

/** A request to the gate's thread: an AdmissionReview to answer, or a wait for the hints still in flight. */
export type GateWorkerRequest =
  { readonly id: number; readonly event: unknown } | { readonly id: number; readonly settle: true };

export interface GateWorkerReply {
  readonly id: number;
  readonly reply?: unknown;
  readonly error?: string;
}

/**
 * The gate as its own Lambda: the real handler with its own EventBridge
 * client and its own connection to the API server, in a worker thread, so a
 * burst of admissions does not take the reconcile handler's event loop (in
 * AWS they are separate functions). Started by GateFlow with `gateThread`.
 */
function serve(data: GateWorkerData): void {
  const port = parentPort;
  if (port === null) throw new Error('gate-worker.ts runs only as a worker thread');
  const publisher = new EventBridgePublisher(
    new EventBridgeClient({ ...MOTO_CLIENT_CONFIG, endpoint: data.eventsEndpoint }),
    { eventBusName: PIPELINE_BUS },
  );
  const inFlight = new Set<Promise<unknown>>();
  const kube = new KubernetesHttpClient({
    connection: async () => ({ server: data.server, caPem: data.caPem }),
    tokens: { token: async () => data.token, invalidate: () => {} },
  });
  const gate = createJobGateHandler({
    settings: SETTINGS,
    tokens: fixtureTokens(),
    publisher: {
      publish: (entries) => {
        const sent = publisher.publish(entries);
        const settled = sent.catch(() => undefined);
        inFlight.add(settled);
        void settled.then(() => inFlight.delete(settled));
        return sent;
      },
    },
    serviceAccounts: () => kube,
    readBudgetMs: 2000,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'GateFlow', serviceName: 'gate-flow' }),
  });
  port.on('message', (request: GateWorkerRequest) => {
    const answer =
      'settle' in request
        ? Promise.all(inFlight).then(() => undefined)
        : gate(request.event as Parameters<typeof gate>[0]);
    answer.then(
      (reply) => port.postMessage({ id: request.id, reply } satisfies GateWorkerReply),
      (error: unknown) =>
        port.postMessage({ id: request.id, error: String(error) } satisfies GateWorkerReply),
    );
  });
}

serve(workerData as GateWorkerData);
