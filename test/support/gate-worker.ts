import { workerData } from 'node:worker_threads';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgePublisher } from '../../lambda/adapters/eventbridge/event-bridge-publisher';
import { trackedGate } from './gate-fixtures';
import { testServerClient } from './kubernetes-test-server';
import type { TestServerAddress } from './kubernetes-test-server';
import { PIPELINE_BUS } from './moto-pipeline';
import { MOTO_CLIENT_CONFIG } from './moto-server';
import { serveWorkerRequests } from './worker-thread';

/** What GateFlow hands the gate's thread: where moto's bus and the API server are. */
export interface GateWorkerData {
  readonly eventsEndpoint: string;
  readonly apiServer: TestServerAddress;
}

/** A request to the gate's thread: an AdmissionReview to answer, or a wait for the hints still in flight. */
export type GateWorkerRequest = { readonly event: unknown } | { readonly settle: true };

/**
 * The gate as its own Lambda: the real handler with its own EventBridge
 * client and its own connection to the API server, in a worker thread, so a
 * burst of admissions does not take the reconcile handler's event loop (in
 * AWS they are separate functions). Started by GateFlow with `gateThread`.
 */
function serve(data: GateWorkerData): void {
  const publisher = new EventBridgePublisher(
    new EventBridgeClient({ ...MOTO_CLIENT_CONFIG, endpoint: data.eventsEndpoint }),
    { eventBusName: PIPELINE_BUS },
  );
  const { gate, settle } = trackedGate(
    publisher,
    testServerClient(data.apiServer),
    new Logger({ logLevel: 'SILENT' }),
    new Metrics({ namespace: 'GateFlow', serviceName: 'gate-flow' }),
  );
  serveWorkerRequests<GateWorkerRequest>(__filename, (request) =>
    'settle' in request ? settle() : gate(request.event as Parameters<typeof gate>[0]),
  );
}

serve(workerData as GateWorkerData);
