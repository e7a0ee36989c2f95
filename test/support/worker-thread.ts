import { Worker, parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

/** A request to a worker thread, numbered so its answer finds its caller. */
interface Envelope<Request> {
  readonly id: number;
  readonly request: Request;
}

/** What a worker thread posts: the answer to a request, a note the owner asked for, or that it has loaded. */
type WorkerMessage =
  | { readonly id: number; readonly reply?: unknown; readonly error?: string }
  | { readonly note: unknown }
  | { readonly ready: true };

/** The owner's side of a worker thread started by {@link startWorkerThread}. */
export interface WorkerThread<Request> {
  /** Posts `request` and resolves with the thread's answer; rejects with its error, or when the thread exits first. */
  ask(request: Request): Promise<unknown>;
  terminate(): Promise<void>;
}

/**
 * Starts `file` (TypeScript, loaded through tsx) in a worker thread with
 * `data` as its workerData, and resolves once it has loaded (it called
 * {@link serveWorkerRequests}). Each note the thread posts goes to `onNote`,
 * in order with its answers. Every request still waiting is rejected when the
 * thread fails or exits, so no caller waits forever on a dead thread.
 *
 * @throws when the thread fails or exits before it has loaded (then it is terminated)
 */
export async function startWorkerThread<Request>(
  name: string,
  file: string,
  data: unknown,
  onNote: (note: unknown) => void = () => {},
): Promise<WorkerThread<Request>> {
  // An eval'd worker resolves modules from the working directory: name tsx's file exactly.
  const tsx = JSON.stringify(require.resolve('tsx/cjs'));
  const worker = new Worker(`require(${tsx}); require(${JSON.stringify(file)});`, {
    eval: true,
    workerData: data,
    // A copy of this process's variables as this code sees them: jest hands each test file a
    // process.env of its own (with test/support/jest-quiet-env.ts's switches), not the process's.
    env: { ...process.env },
  });
  const waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let loaded: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (loaded = { resolve, reject }));
  const failAll = (error: Error) => {
    loaded?.reject(error);
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  worker.on('message', (m: WorkerMessage) => {
    if ('ready' in m) return loaded?.resolve();
    if ('note' in m) return onNote(m.note);
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(`${name}: ${m.error}`));
    else w?.resolve(m.reply);
  });
  worker.on('error', (error) => failAll(new Error(`${name} failed: ${String(error)}`)));
  worker.on('exit', (code) => failAll(new Error(`${name} exited (${code})`)));
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    ask: (request) =>
      new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, request } satisfies Envelope<Request>);
      }),
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** The owner's port, from inside a worker thread. */
function ownerPort(file: string): MessagePort {
  if (parentPort === null) throw new Error(`${file} runs only as a worker thread`);
  return parentPort;
}

/**
 * The thread's side: answers each request with `handle` (several may run at
 * once), and tells the owner it has loaded. Call it last, once the thread is
 * ready to answer.
 *
 * @throws when not running in a worker thread
 */
export function serveWorkerRequests<Request>(
  file: string,
  handle: (request: Request) => Promise<unknown>,
): void {
  const port = ownerPort(file);
  port.on('message', ({ id, request }: Envelope<Request>) => {
    handle(request).then(
      (reply) => port.postMessage({ id, reply } satisfies WorkerMessage),
      (error: unknown) => port.postMessage({ id, error: String(error) } satisfies WorkerMessage),
    );
  });
  port.postMessage({ ready: true } satisfies WorkerMessage);
}

/**
 * Posts `note` to the owner's `onNote`, in order with the thread's answers.
 * @throws when not running in a worker thread
 */
export function noteToOwner(file: string, note: unknown): void {
  ownerPort(file).postMessage({ note } satisfies WorkerMessage);
}
