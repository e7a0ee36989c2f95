import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { ClusterConnection } from './cluster-connection';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * Learns where a cluster's API server is and which CA signs it, from
 * `eks:DescribeCluster`, once per cluster for the life of the Lambda
 * container: neither changes while a cluster lives. A failed lookup is not
 * kept, so the next call asks again.
 */
export class EksClusterConnector {
  private readonly connections = new Map<string, Promise<ClusterConnection>>();

  constructor(private readonly eks: EKSClient) {}

  connection(clusterName: string): Promise<ClusterConnection> {
    let connection = this.connections.get(clusterName);
    if (connection === undefined) {
      connection = this.describe(clusterName);
      this.connections.set(clusterName, connection);
      connection.catch(() => this.connections.delete(clusterName));
    }
    return connection;
  }

  private async describe(clusterName: string): Promise<ClusterConnection> {
    const { cluster } = await this.eks.send(new DescribeClusterCommand({ name: clusterName }));
    const endpoint = cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    if (endpoint === undefined || endpoint === '' || caData === undefined || caData === '') {
      throw new Error(
        `EKS cluster ${clusterName} has no API endpoint or certificate authority yet (status ${cluster?.status ?? 'unknown'}); try again once it is ACTIVE`,
      );
    }
    if (!endpoint.startsWith('https://')) {
      throw new Error(`EKS cluster ${clusterName} reports a non-HTTPS endpoint ${endpoint}`);
    }
    const caPem = Buffer.from(caData, 'base64').toString('utf8');
    if (!PEM_CERTIFICATE.test(caPem)) {
      throw new Error(
        `EKS cluster ${clusterName}: certificateAuthority.data is not a base64-encoded PEM certificate`,
      );
    }
    return { server: endpoint.replace(/\/+$/, ''), caPem };
  }
}
