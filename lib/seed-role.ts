import { Duration, Stack, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ClusterOidcProvider } from './cluster-oidc-provider';
import { irsaPrincipal, serviceAccountSubject } from './irsa-principal';
import type { SubjectConditionOperator } from './irsa-principal';
import {
  ALLOWED_NAMESPACES_TAG,
  DERIVED_ROLE_PATH_TAG,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  ROLE_CREATION_LIMIT_TAG,
  ROLE_KIND_TAG,
} from '../lambda/ports/tag-keys';

/**
 * Who may assume a seed in pod-identity mode: EKS Pod Identity, for pods of
 * these clusters and namespaces only.
 */
export interface PodIdentityTrust {
  /** Names of the EKS clusters, in the stack's account and region (session tag `eks-cluster-arn`). */
  readonly clusterNames: readonly string[];
  /** Namespaces (session tag `kubernetes-namespace`): a list, or one list token. */
  readonly namespaces: readonly string[];
}

export interface SeedRoleProps {
  /** The seed's role name; derived roles are `<roleName>-<i>`. */
  readonly roleName: string;

  /** The clusters whose KubeStash operator assumes the seed (IRSA mode; ignored with `podIdentity`). */
  readonly providers: readonly ClusterOidcProvider[];

  /**
   * Pod-identity mode: the seed itself is the role every granted
   * ServiceAccount's association names, and it trusts only EKS Pod Identity
   * (no OIDC provider, no derived roles).
   * @default undefined (IRSA mode)
   */
  readonly podIdentity?: PodIdentityTrust;

  /** Namespace of the KubeStash operator's ServiceAccount (may be a token). */
  readonly operatorNamespace: string;

  /** Name of the KubeStash operator's ServiceAccount (may be a token). */
  readonly operatorServiceAccount: string;

  /**
   * How `sub` is matched; derived roles copy it.
   * @default 'StringLike'
   */
  readonly conditionOperator?: SubjectConditionOperator;

  /** The bucket access policy that the seed and every derived role carry. */
  readonly accessPolicy: iam.IManagedPolicy;

  /** The boundary the seed and every derived role carry. */
  readonly permissionsBoundary: iam.IManagedPolicy;

  /** @default Duration.hours(1) */
  readonly maxSessionDuration?: Duration;

  /** The IAM path of the derived roles, e.g. `/kubestash-irsa/`. */
  readonly derivedRolePath: string;

  /** How many derived roles the reconciler may create (a number, or a token). */
  readonly roleCreationLimit: string;

  /** Namespaces whose ServiceAccounts may be granted, space-separated (a token is fine). */
  readonly allowedNamespaces: string;
}

/**
 * The template the reconciler clones into derived roles. KubeStash's operator
 * assumes it directly (seed 000, section 1.2); its tags carry the settings the
 * reconciler applies to its derived roles, so a console user can change them
 * with a stack update.
 */
export class SeedRole extends Construct {
  readonly role: iam.Role;
  readonly roleName: string;
  readonly derivedRolePath: string;
  readonly accessPolicy: iam.IManagedPolicy;
  readonly permissionsBoundary: iam.IManagedPolicy;
  /** True in pod-identity mode: no derived roles, one association per ServiceAccount. */
  readonly podIdentity: boolean;
  /** Pod-identity mode: the clusters whose associations may name the seed (empty in IRSA mode). */
  readonly podIdentityClusters: readonly string[];

  constructor(scope: Construct, id: string, props: SeedRoleProps) {
    super(scope, id);
    if (props.podIdentity !== undefined && props.podIdentity.clusterNames.length === 0) {
      throw new Error(
        `SeedRole ${props.roleName}: a pod-identity seed needs the ARN of at least one EKS cluster whose pods may assume it`,
      );
    }
    if (props.podIdentity === undefined && props.providers.length === 0) {
      throw new Error(
        `SeedRole ${props.roleName}: give at least one cluster OIDC provider the operator runs behind`,
      );
    }
    if (!/^\/(?:[\x21-\x7E]*\/)?$/.test(props.derivedRolePath) || props.derivedRolePath === '/') {
      throw new Error(
        `SeedRole ${props.roleName}: derivedRolePath "${props.derivedRolePath}" must be a dedicated IAM path that starts and ends with "/", e.g. /kubestash-irsa/`,
      );
    }
    this.roleName = props.roleName;
    this.derivedRolePath = props.derivedRolePath;
    this.accessPolicy = props.accessPolicy;
    this.permissionsBoundary = props.permissionsBoundary;

    this.podIdentityClusters = props.podIdentity?.clusterNames ?? [];
    this.podIdentity = props.podIdentity !== undefined;
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: this.podIdentity
        ? `KubeStash seed role: kubestash-irsa associates KubeStash's ServiceAccounts with it through EKS Pod Identity`
        : `KubeStash seed role: kubestash-irsa clones it into ${props.roleName}-N under ${props.derivedRolePath}`,
      assumedBy:
        props.podIdentity === undefined
          ? this.irsaTrust(props)
          : podIdentityPrincipal(
              this.podIdentityClusters.map((name) => clusterArn(Stack.of(this), name)),
              props.podIdentity.namespaces,
            ),
      managedPolicies: [props.accessPolicy],
      permissionsBoundary: props.permissionsBoundary,
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
    });
    const tags: Record<string, string> = {
      [ROLE_KIND_TAG]: 'seed',
      [MANAGED_BY_TAG]: MANAGED_BY_VALUE,
      [DERIVED_ROLE_PATH_TAG]: props.derivedRolePath,
      [ROLE_CREATION_LIMIT_TAG]: props.roleCreationLimit,
      [ALLOWED_NAMESPACES_TAG]: props.allowedNamespaces,
    };
    Object.entries(tags).forEach(([key, value]) => Tags.of(this.role).add(key, value));
  }

  /** One statement per cluster: the cross-cluster backup/restore case of seed 003. */
  private irsaTrust(props: SeedRoleProps): iam.IPrincipal {
    const subject = serviceAccountSubject(props.operatorNamespace, props.operatorServiceAccount);
    return new iam.CompositePrincipal(
      ...props.providers.map((p) =>
        irsaPrincipal(this, `Condition${p.node.id}`, {
          provider: p.provider,
          issuer: p.issuer,
          subjects: [subject],
          operator: props.conditionOperator,
        }),
      ),
    );
  }

  /** ARNs of the derived roles' namesake pattern: `arn:…:role<path><seed>-*`. */
  derivedRoleArnPattern(): string {
    return this.role.stack.formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: `${this.derivedRolePath.slice(1)}${this.roleName}-*`,
    });
  }
}

/** `arn:<partition>:eks:<region>:<account>:cluster/<name>` in the stack's account and region. */
export function clusterArn(stack: Stack, name: string): string {
  return stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: name });
}

/** The service principal EKS Pod Identity assumes roles as. */
export const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';

/**
 * The trust of a pod-identity seed: `pods.eks.amazonaws.com` may call
 * `sts:AssumeRole` and `sts:TagSession` (as the EKS user guide requires,
 * https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html) only
 * with the session tags EKS sets naming one of the seed's clusters and
 * namespaces (`eks-cluster-arn`, `kubernetes-namespace`:
 * https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html). An
 * association made in another cluster, or for a ServiceAccount of another
 * namespace, gets no credentials even if someone creates it.
 */
export function podIdentityPrincipal(
  clusterArns: readonly string[],
  namespaces: readonly string[],
): iam.IPrincipal {
  return new iam.SessionTagsPrincipal(
    new iam.ServicePrincipal(POD_IDENTITY_SERVICE).withConditions({
      StringEquals: {
        'aws:RequestTag/eks-cluster-arn': [...clusterArns],
        'aws:RequestTag/kubernetes-namespace': [...namespaces],
      },
    }),
  );
}
