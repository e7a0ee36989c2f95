import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  ResourceInUseException,
  ResourceLimitExceededException,
  ResourceNotFoundException,
  paginateListPodIdentityAssociations,
} from '@aws-sdk/client-eks';
import type { EKSClient, PodIdentityAssociation } from '@aws-sdk/client-eks';
import type {
  NewPodIdentityAssociation,
  PodIdentityAssociationRecord,
  PodIdentityPort,
} from '../../ports/pod-identity-port';
import {
  AssociationExistsError,
  AssociationQuotaExceededError,
} from '../../ports/pod-identity-port';

/**
 * The PodIdentityPort over the AWS SDK's EKS client. ListPodIdentityAssociations
 * names no role, tags or time, so each association is described once and
 * remembered by its id: an association's role only changes through
 * UpdatePodIdentityAssociation, which the reconciler never calls and may not
 * call (its IAM policy), and a re-pointed one of ours would carry no seed tag
 * change either, so a warm Lambda reads each association once in its life.
 * A resync over 1,000 unchanged associations is one paged list call per 100.
 * API reference: https://docs.aws.amazon.com/eks/latest/APIReference/API_ListPodIdentityAssociations.html
 */
export class EksPodIdentityAdapter implements PodIdentityPort {
  private readonly described = new Map<string, PodIdentityAssociationRecord>();

  constructor(private readonly eks: EKSClient) {}

  async listAssociations(cluster: string): Promise<PodIdentityAssociationRecord[]> {
    const out: PodIdentityAssociationRecord[] = [];
    const seen = new Set<string>();
    for await (const page of paginateListPodIdentityAssociations(
      { client: this.eks, pageSize: 100 },
      { clusterName: cluster },
    )) {
      for (const summary of page.associations ?? []) {
        const id = summary.associationId;
        if (id === undefined) continue;
        seen.add(`${cluster}/${id}`);
        const known = this.described.get(`${cluster}/${id}`);
        if (known !== undefined) {
          out.push(known);
          continue;
        }
        const record = await this.describe(cluster, id);
        if (record !== undefined) out.push(record);
      }
    }
    for (const key of this.described.keys()) {
      if (key.startsWith(`${cluster}/`) && !seen.has(key)) this.described.delete(key);
    }
    return out;
  }

  async createAssociation(
    cluster: string,
    association: NewPodIdentityAssociation,
  ): Promise<PodIdentityAssociationRecord> {
    try {
      const created = await this.eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: cluster,
          namespace: association.namespace,
          serviceAccount: association.serviceAccount,
          roleArn: association.roleArn,
          tags: { ...association.tags },
          clientRequestToken: association.clientRequestToken,
        }),
      );
      return this.remember(cluster, created.association);
    } catch (error) {
      if (error instanceof ResourceInUseException) {
        throw new AssociationExistsError(
          cluster,
          association.namespace,
          association.serviceAccount,
          error.message,
        );
      }
      if (error instanceof ResourceLimitExceededException) {
        throw new AssociationQuotaExceededError(cluster, error.message);
      }
      throw error;
    }
  }

  async deleteAssociation(cluster: string, associationId: string): Promise<'deleted' | 'gone'> {
    this.described.delete(`${cluster}/${associationId}`);
    try {
      await this.eks.send(
        new DeletePodIdentityAssociationCommand({ clusterName: cluster, associationId }),
      );
      return 'deleted';
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return 'gone';
      throw error;
    }
  }

  /** Undefined when the association went between the list and the describe. */
  private async describe(
    cluster: string,
    associationId: string,
  ): Promise<PodIdentityAssociationRecord | undefined> {
    try {
      const described = await this.eks.send(
        new DescribePodIdentityAssociationCommand({ clusterName: cluster, associationId }),
      );
      return this.remember(cluster, described.association);
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  private remember(
    cluster: string,
    association: PodIdentityAssociation | undefined,
  ): PodIdentityAssociationRecord {
    const { associationId, namespace, serviceAccount, roleArn, createdAt } = association ?? {};
    if (
      associationId === undefined ||
      namespace === undefined ||
      serviceAccount === undefined ||
      roleArn === undefined
    ) {
      throw new Error(
        `EKS returned a Pod Identity association of cluster ${cluster} without id, namespace, ServiceAccount or role: ${JSON.stringify(association)}`,
      );
    }
    const record: PodIdentityAssociationRecord = {
      associationId,
      namespace,
      serviceAccount,
      roleArn,
      tags: { ...(association?.tags ?? {}) },
      createdAt: (createdAt ?? new Date(0)).toISOString(),
    };
    this.described.set(`${cluster}/${associationId}`, record);
    return record;
  }
}
