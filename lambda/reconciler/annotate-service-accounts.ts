import type { KubernetesPort } from '../ports/kubernetes-port';
import { KubernetesConflictError, KubernetesNotFoundError } from '../ports/kubernetes-port';
import { onApiServers } from './api-server-calls';

/** One ServiceAccount's annotations to write, bound to the uid the pass read. */
export interface AnnotationWrite {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** The uid the pass read: a ServiceAccount re-created under its name is not written. */
  readonly uid?: string;
}

/**
 * Writes each ServiceAccount's annotations (a merge patch with a uid
 * precondition), several at a time through {@link onApiServers}: the writes
 * are independent. One deleted (404) or replaced (409) since the pass read it
 * is skipped; the next pass reads it afresh. Returns the writes that took, in
 * the order given. Rejects with any other error of the Kubernetes port, once
 * the writes already under way have ended.
 */
export async function annotateServiceAccounts<W extends AnnotationWrite>(
  kubernetes: (cluster: string) => Pick<KubernetesPort, 'patchServiceAccountAnnotations'>,
  writes: readonly W[],
): Promise<W[]> {
  const took = await onApiServers(writes, async (w) => {
    try {
      await kubernetes(w.cluster).patchServiceAccountAnnotations(
        w.namespace,
        w.name,
        w.annotations,
        { uid: w.uid },
      );
      return true;
    } catch (error) {
      if (error instanceof KubernetesNotFoundError || error instanceof KubernetesConflictError)
        return false;
      throw error;
    }
  });
  return writes.filter((_, i) => took[i]);
}
