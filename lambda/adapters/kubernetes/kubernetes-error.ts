import {
  KubernetesApiError,
  KubernetesConflictError,
  KubernetesForbiddenError,
  KubernetesNotFoundError,
  KubernetesUnauthorizedError,
} from '../../ports/kubernetes-port';
import type { KubernetesRequestTarget } from '../../ports/kubernetes-port';
import { parseStatus } from './kubernetes-objects';
import { CONNECT_TIMEOUT_CODE } from './kubernetes-transport';

/** Server messages are quoted for operators, but a proxy's HTML page need not be. */
const MAX_QUOTED = 300;

function quote(text: string | undefined): string {
  if (text === undefined || text === '') return '';
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_QUOTED ? `${oneLine.slice(0, MAX_QUOTED)}…` : oneLine;
}

/**
 * Maps an API server refusal onto the port's errors. The messages quote the
 * server's Status message, which names the user and the object but never
 * carries the bearer token.
 */
export function toKubernetesError(
  target: KubernetesRequestTarget,
  status: number,
  body: string,
): KubernetesApiError {
  const parsed = parseStatus(body);
  const serverSays = quote(parsed?.message ?? body);
  const detail = serverSays === '' ? `HTTP ${status}` : `HTTP ${status}: ${serverSays}`;
  switch (status) {
    case 401:
      return new KubernetesUnauthorizedError(
        target,
        `${detail}. The API server did not accept the reconciler's IAM identity even with a fresh token: ` +
          'check that the cluster has an EKS access entry for the reconciler role (authentication mode API or API_AND_CONFIG_MAP) ' +
          'and that the token is signed for this cluster name and region',
      );
    case 403: {
      const rule = `{ apiGroups: ["${target.apiGroup}"], resources: ["${target.resource}"], verbs: ["${target.verb}"] }`;
      return new KubernetesForbiddenError(
        target,
        target.namespace === ''
          ? `${detail}. The caller needs a ClusterRole with the rule ${rule}`
          : `${detail}. The reconciler's Role in namespace ${target.namespace} needs the rule ${rule} (see KUBERNETES_RBAC_RULES)`,
      );
    }
    case 404:
      return new KubernetesNotFoundError(target, detail);
    case 409:
      return new KubernetesConflictError(
        target,
        status,
        parsed?.reason === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict',
        `${detail}. The object changed since it was read: re-read it and plan again`,
      );
    case 422:
      // A uid precondition in a patch fails as an immutable-field error, not as a 409.
      if (parsed?.causeFields.includes('metadata.uid') === true) {
        return new KubernetesConflictError(
          target,
          status,
          'UidMismatch',
          `${detail}. The object was deleted and re-created under the same name since it was read`,
        );
      }
      return new KubernetesApiError(target, status, detail);
    default:
      return new KubernetesApiError(target, status, detail);
  }
}

/**
 * What most likely keeps the reconciler from connecting to an EKS API server,
 * by the network error's code. Endpoint access modes:
 * https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html;
 * placement: docs/private-clusters.md.
 */
export function likelyUnreachableCause(code: string): string {
  switch (code) {
    case CONNECT_TIMEOUT_CODE:
      return 'nothing answered the connection: the endpoint is private or allowlisted and the function does not run in the cluster network (set endpointAccess and network), or the cluster security group does not admit the function security group on 443';
    case 'ECONNREFUSED':
      return 'the address refused the connection: the endpoint resolves to an address where no API server listens (check the endpoint in DescribeCluster and any proxy or DNS override)';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route from the function subnets to the endpoint: check their route tables (NAT gateway for a public endpoint, peering or Transit Gateway for a private endpoint in another VPC)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the endpoint name did not resolve: check the VPC has DNS resolution and DNS hostnames enabled and the subnets reach the VPC resolver';
    default:
      return 'the network between the function and the API server failed';
  }
}
