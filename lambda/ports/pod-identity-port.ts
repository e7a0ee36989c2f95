/**
 * What the pod-identity reconciler needs from the EKS API, shaped like the
 * domain. The adapter (lambda/adapters/eks/eks-pod-identity-adapter.ts) maps
 * EKS's calls and errors onto it:
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_Operations_Amazon_Elastic_Kubernetes_Service.html
 */

/** One association, with what ListPodIdentityAssociations does not say (role, tags, time). */
export interface PodIdentityAssociationRecord {
  readonly associationId: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
  readonly tags: Readonly<Record<string, string>>;
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface NewPodIdentityAssociation {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly roleArn: string;
  readonly tags: Readonly<Record<string, string>>;
  /**
   * EKS's idempotency token: a retried create with the same token returns
   * the first result instead of failing (derived from the ServiceAccount's uid,
   * so a re-created ServiceAccount gets a new one).
   */
  readonly clientRequestToken: string;
}

export interface PodIdentityPort {
  /** Every association of the cluster (all owners), with role, tags and creation time. */
  listAssociations(cluster: string): Promise<PodIdentityAssociationRecord[]>;
  /**
   * Creates one association. Throws AssociationExistsError when the
   * ServiceAccount has one already (HTTP 409 ResourceInUseException) and
   * AssociationQuotaExceededError when the cluster is full (HTTP 400
   * ResourceLimitExceededException).
   */
  createAssociation(
    cluster: string,
    association: NewPodIdentityAssociation,
  ): Promise<PodIdentityAssociationRecord>;
  /** `gone` when EKS no longer had it (HTTP 404 ResourceNotFoundException): nothing to do. */
  deleteAssociation(cluster: string, associationId: string): Promise<'deleted' | 'gone'>;
}

/** The ServiceAccount has an association already (made by a racing pass, or by someone else). */
export class AssociationExistsError extends Error {
  constructor(
    readonly cluster: string,
    readonly namespace: string,
    readonly serviceAccount: string,
    message: string,
  ) {
    super(
      `CreatePodIdentityAssociation ${cluster}/${namespace}/${serviceAccount}: it has one already: ${message}`,
    );
    this.name = 'AssociationExistsError';
  }
}

/** The cluster holds as many associations as its quota allows. */
export class AssociationQuotaExceededError extends Error {
  constructor(
    readonly cluster: string,
    message: string,
  ) {
    super(`CreatePodIdentityAssociation in ${cluster}: quota reached: ${message}`);
    this.name = 'AssociationQuotaExceededError';
  }
}
