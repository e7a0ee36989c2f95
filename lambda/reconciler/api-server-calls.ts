import pLimit from 'p-limit';
import { API_SERVER_CONCURRENCY } from '../ports/kubernetes-port';

/**
 * `call` on each of `items`, at most {@link API_SERVER_CONCURRENCY} at once,
 * the results in the order of `items`. Meant for independent Kubernetes API
 * calls of one step of a pass. After the first rejection no further item is
 * started; the returned promise rejects with it once the calls already under
 * way have ended, so nothing of a failed pass still writes while the next
 * pass of the seed runs (a Lambda returns, and may be frozen, when its
 * handler's promise settles).
 */
export async function onApiServers<T, R>(
  items: readonly T[],
  call: (item: T) => Promise<R>,
): Promise<R[]> {
  const limit = pLimit(API_SERVER_CONCURRENCY);
  let failure: { readonly error: unknown } | undefined;
  const settled = await Promise.allSettled(
    items.map((item) =>
      limit(async () => {
        if (failure !== undefined) throw failure.error;
        try {
          return await call(item);
        } catch (error) {
          failure ??= { error };
          throw error;
        }
      }),
    ),
  );
  if (failure !== undefined) throw failure.error;
  return settled.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    return s.value;
  });
}
