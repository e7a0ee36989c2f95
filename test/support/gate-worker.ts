import { parentPort, workerData } from 'node:worker_threads';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgePublisher } from '../../lambda/adapters/eventbridge/event-bridge-publisher';
import { KubernetesHttpClient } from '../../lambda/adapters/kubernetes/kubernetes-http-client';
import { trackedGate } from './gate-fixtures';
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
  const kube = new KubernetesHttpClient({
    connection: async () => ({ server: data.server, caPem: data.caPem }),
    tokens: { token: async () => data.token, invalidate: () => {} },
  });
  const { gate, settle } = trackedGate(
    publisher,
    kube,
    new Logger({ logLevel: 'SILENT' }),
    new Metrics({ namespace: 'GateFlow', serviceName: 'gate-flow' }),
  );
  port.on('message', (request: GateWorkerRequest) => {
    const answer =
      'settle' in request ? settle() : gate(request.event as Parameters<typeof gate>[0]);
    answer.then(
      (reply) => port.postMessage({ id: request.id, reply } satisfies GateWorkerReply),
      (error: unknown) =>
        port.postMessage({ id: request.id, error: String(error) } satisfies GateWorkerReply),
    );
  });
}

serve(workerData as GateWorkerData);
