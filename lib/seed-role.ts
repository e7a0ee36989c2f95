import { Duration, Tags } from 'aws-cdk-lib';
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

export interface SeedRoleProps {
  /** The seed's role name; derived roles are `<roleName>-<i>`. */
  readonly roleName: string;

  /** The clusters whose KubeStash operator assumes the seed. */
  readonly providers: readonly ClusterOidcProvider[];

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

  constructor(scope: Construct, id: string, props: SeedRoleProps) {
    super(scope, id);
    if (props.providers.length === 0) {
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

    const subject = serviceAccountSubject(props.operatorNamespace, props.operatorServiceAccount);
    const principals = props.providers.map((p) =>
      irsaPrincipal(this, `Condition${p.node.id}`, {
        provider: p.provider,
        issuer: p.issuer,
        subjects: [subject],
        operator: props.conditionOperator,
      }),
    );

    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: `KubeStash seed role: kubestash-irsa clones it into ${props.roleName}-N under ${props.derivedRolePath}`,
      // One statement per cluster: the cross-cluster backup/restore case of seed 003.
      assumedBy: new iam.CompositePrincipal(...principals),
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
