import type { EksClusterConnector } from './eks-cluster-connector';
import { EksTokenCache } from './eks-token-cache';
import type { AwsCredentialsProvider } from './eks-token';
import { KubernetesHttpClient } from './kubernetes-http-client';
import type { KubernetesHttpClientOptions } from './kubernetes-http-client';

export interface EksKubernetesClientOptions {
  readonly clusterName: string;
  /** The cluster's region: the token is signed for that region's STS endpoint. */
  readonly region: string;
  /** Shared by all clusters, so each is described once per Lambda container. */
  readonly connector: EksClusterConnector;
  readonly credentials: AwsCredentialsProvider;
  /** Timeouts, retries, page size, hooks. */
  readonly http?: Omit<KubernetesHttpClientOptions, 'connection' | 'tokens'>;
}

/**
 * The KubernetesPort for one EKS cluster: endpoint and CA from DescribeCluster,
 * bearer tokens from the caller's IAM credentials. Nothing is called until the
 * first request, so handlers can build one per cluster at module load.
 */
export function eksKubernetesClient(options: EksKubernetesClientOptions): KubernetesHttpClient {
  return new KubernetesHttpClient({
    ...options.http,
    connection: () => options.connector.connection(options.clusterName),
    tokens: new EksTokenCache({
      clusterName: options.clusterName,
      region: options.region,
      credentials: options.credentials,
      ...(options.http?.now === undefined ? {} : { now: options.http.now }),
    }),
  });
}
