import { workerData } from 'node:worker_threads';
import { EventSourcePoller, createFlowReconciler } from './gate-flow-reconciler';
import { testServerClient } from './kubernetes-test-server';
import type { TestServerAddress } from './kubernetes-test-server';
import { MotoPipeline } from './moto-pipeline';
import { noteToOwner, serveWorkerRequests } from './worker-thread';

/** What GateFlow hands the reconciler's thread: its IAM/STS moto, its queue, and the API server. */
export interface ReconcilerWorkerData {
  readonly motoEndpoint: string;
  readonly eventsEndpoint: string;
  readonly queueUrl: string;
  readonly apiServer: TestServerAddress;
}

/**
 * A request to the reconciler's thread: read the queue until it is empty,
 * poll until told to stop (answered with the batches once stopped), or stop.
 */
export type ReconcilerWorkerRequest =
  { readonly drain: true } | { readonly poll: true } | { readonly stop: true };

/** What the reconciler's thread reports while it works, in order with its answers. */
export type ReconcilerWorkerNote =
  { readonly pass: true } | { readonly receiveMs: number } | { readonly batch: true };

const note = (n: ReconcilerWorkerNote): void => noteToOwner(__filename, n);

/**
 * The reconciler as its own Lambda: the SQS event source (moto) and the real
 * reconcile handler with its own AWS clients and its own connection to the
 * API server, in a worker thread, so it does not share an event loop with the
 * API server that stores a burst's Jobs (in AWS the reconciler is its own
 * function). Started by GateFlow with `reconcilerThread`.
 */
function serve(data: ReconcilerWorkerData): void {
  const poller = new EventSourcePoller(
    MotoPipeline.attach(data.eventsEndpoint, data.queueUrl),
    createFlowReconciler(data.motoEndpoint, testServerClient(data.apiServer), () =>
      note({ pass: true }),
    ),
    {
      onReceive: (ms) => note({ receiveMs: ms }),
      onBatch: () => note({ batch: true }),
    },
  );
  let reading = false;
  let stopping = false;
  serveWorkerRequests<ReconcilerWorkerRequest>(__filename, async (request) => {
    if ('stop' in request) {
      stopping = true;
      return undefined;
    }
    // One reader at a time, as one event source mapping feeds the function from the queue.
    if (reading) throw new Error('the event source is already reading the queue');
    reading = true;
    stopping = false;
    try {
      return 'drain' in request ? await poller.drain() : await poller.pollWhile(() => !stopping);
    } finally {
      reading = false;
    }
  });
}

serve(workerData as ReconcilerWorkerData);
