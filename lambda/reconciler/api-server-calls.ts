import pLimit from 'p-limit';
import { API_SERVER_CONCURRENCY } from '../ports/kubernetes-port';

/**
 * `call` on each of `items`, at most {@link API_SERVER_CONCURRENCY} at once,
 * the results in the order of `items`. Meant for independent Kubernetes API
 * calls of one step of a pass. On the first rejection no further item is
 * started (those already sent finish) and the returned promise rejects with
 * it: the pass fails, and the next one sees what was written.
 */
export async function onApiServers<T, R>(
  items: readonly T[],
  call: (item: T) => Promise<R>,
): Promise<R[]> {
  const limit = pLimit(API_SERVER_CONCURRENCY);
  return Promise.all(
    items.map((item) =>
      limit(() =>
        call(item).catch((error: unknown) => {
          limit.clearQueue();
          throw error;
        }),
      ),
    ),
  );
}
