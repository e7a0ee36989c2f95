import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { alphanumeric } from './config/project-config';
import { acknowledgeWildcardResources } from './nag-acknowledgments';
import { POD_IDENTITY_SERVICE } from './seed-role';
import type { SeedRole } from './seed-role';
import {
  DERIVED_ROLE_TAG_KEYS,
  EMPTY_SINCE_TAG,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  SEED_TAG,
} from '../lambda/ports/tag-keys';

export interface ReconcilerRoleProps {
  /** The seeds whose derived roles the reconciler manages. */
  readonly seeds: readonly SeedRole[];

  /** The EKS clusters whose ServiceAccounts it reads and annotates. */
  readonly clusterNames: readonly string[];

  /**
   * Who assumes the role.
   * @default the Lambda service
   */
  readonly assumedBy?: iam.IPrincipal;
}

/**
 * The reconciler's (manager's) role, least privilege: it can create, tag,
 * re-trust, attach the seed's own policy to, and delete only roles directly
 * under the seeds' derived-role paths (never a sub-path) whose names start with
 * the seed's name, and only roles that carry both the seed's tag and the seed's
 * permissions boundary. It has no iam:PutRolePolicy, and iam:PassRole only
 * of a pod-identity seed to EKS Pod Identity: it can never give a role more
 * than the seed has. docs/security-iam.md has the
 * decision table that proves it with an IAM policy engine.
 */
export class ReconcilerRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ReconcilerRoleProps) {
    super(scope, id);
    if (props.seeds.length === 0) {
      throw new Error('ReconcilerRole: give at least one SeedRole whose derived roles it manages');
    }
    if (props.clusterNames.length === 0) {
      throw new Error('ReconcilerRole: give at least one EKS cluster name it may describe');
    }
    this.role = new iam.Role(this, 'Role', {
      description:
        'kubestash-irsa reconciler: manages the derived roles of the KubeStash seed roles',
      assumedBy: props.assumedBy ?? new iam.ServicePrincipal('lambda.amazonaws.com'),
    });

    const stack = Stack.of(this);
    const irsaSeeds = props.seeds.filter((seed) => !seed.podIdentity);
    const derivedRoleStatements = irsaSeeds.flatMap((seed) => this.derivedRoleStatements(seed));
    const podIdentityStatements = props.seeds
      .filter((seed) => seed.podIdentity)
      .flatMap((seed) => this.podIdentityStatements(seed));
    // aws-credential-manager's roles of each IRSA seed (untagged `<seed>-<i>` at `/`):
    // read only, so the reconciler can recognise them (their tags) and skip them.
    // A pod-identity seed creates no derived role, so no name of it can collide.
    const managerRoleStatements = irsaSeeds.map(
      (seed) =>
        new iam.PolicyStatement({
          sid: `RecogniseManagerRoles${alphanumeric(seed.roleName)}`,
          actions: ['iam:ListRoleTags'],
          resources: [
            stack.formatArn({
              service: 'iam',
              region: '',
              resource: 'role',
              resourceName: `${seed.roleName}-*`,
            }),
          ],
        }),
    );
    const global = [
      new iam.PolicyStatement({
        sid: 'ListDerivedRolesAndReadQuota',
        actions: ['iam:ListRoles', 'iam:GetAccountSummary'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeClusters',
        actions: ['eks:DescribeCluster'],
        resources: props.clusterNames.map((name) =>
          stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: name }),
        ),
      }),
    ];
    [
      ...derivedRoleStatements,
      ...managerRoleStatements,
      ...podIdentityStatements,
      ...global,
    ].forEach((s) => this.role.addToPolicy(s));

    acknowledgeWildcardResources(
      this.role,
      global,
      'iam:ListRoles and iam:GetAccountSummary support no resource-level permissions.',
      (key) => key === 'Resource::*',
    );
    acknowledgeWildcardResources(
      this.role,
      managerRoleStatements,
      'aws-credential-manager names its roles <seed>-<i> at / at run time; the reconciler only reads their tags (ListRoleTags) to recognise them and never writes to them (docs/migration.md).',
      (key) => key.startsWith('Resource::arn:') && key.endsWith('-*'),
    );
    acknowledgeWildcardResources(
      this.role,
      derivedRoleStatements,
      'Derived roles are created at run time as <seed>-<i>; the wildcard is confined to the dedicated path (sub-paths are denied) and the seed-name prefix, and every write also requires the seed tag and boundary, or creates a role with them.',
      (key) => key.startsWith('Resource::arn:') && key.endsWith('-*'),
    );
    acknowledgeWildcardResources(
      this.role,
      podIdentityStatements,
      "Pod Identity associations get their IDs from EKS at run time; the wildcard is confined to the seed's own clusters, and deleting one also requires the seed's tag on it.",
      (key) => key.startsWith('Resource::arn:') && key.endsWith('/*'),
    );
  }

  /**
   * Pod-identity mode (docs/pod-identity.md): associations in the seed's
   * clusters only, created carrying the seed's tags and deleted only when they
   * carry them; the seed role passed to EKS Pod Identity and to nothing else.
   * Resource types and condition keys: Service Authorization Reference for EKS
   * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelastickubernetesservice.html)
   * and `iam:PassedToService` (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
   */
  private podIdentityStatements(seed: SeedRole): iam.PolicyStatement[] {
    const sid = alphanumeric(seed.roleName);
    const stack = Stack.of(this);
    const clusters = seed.podIdentityClusters.map((name) =>
      stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: name }),
    );
    const associations = seed.podIdentityClusters.map((name) =>
      stack.formatArn({
        service: 'eks',
        resource: 'podidentityassociation',
        resourceName: `${name}/*`,
      }),
    );
    const tagged = {
      [`aws:RequestTag/${SEED_TAG}`]: seed.roleName,
      [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
    };
    return [
      new iam.PolicyStatement({
        sid: `ListAssociations${sid}`,
        actions: ['eks:ListPodIdentityAssociations'],
        resources: clusters,
      }),
      new iam.PolicyStatement({
        sid: `CreateAssociations${sid}`,
        actions: ['eks:CreatePodIdentityAssociation'],
        resources: clusters,
        conditions: {
          StringEquals: tagged,
          'ForAllValues:StringEquals': { 'aws:TagKeys': [SEED_TAG, MANAGED_BY_TAG] },
        },
      }),
      new iam.PolicyStatement({
        // Tagging on create is also authorized as TagResource on the new association.
        sid: `TagNewAssociations${sid}`,
        actions: ['eks:TagResource'],
        resources: associations,
        conditions: {
          StringEquals: tagged,
          'ForAllValues:StringEquals': { 'aws:TagKeys': [SEED_TAG, MANAGED_BY_TAG] },
        },
      }),
      new iam.PolicyStatement({
        sid: `ReadAssociations${sid}`,
        actions: ['eks:DescribePodIdentityAssociation'],
        resources: associations,
      }),
      new iam.PolicyStatement({
        sid: `DeleteOwnAssociations${sid}`,
        actions: ['eks:DeletePodIdentityAssociation'],
        resources: associations,
        conditions: { StringEquals: { [`aws:ResourceTag/${SEED_TAG}`]: seed.roleName } },
      }),
      new iam.PolicyStatement({
        sid: `PassSeedToPodIdentity${sid}`,
        actions: ['iam:PassRole'],
        resources: [seed.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': POD_IDENTITY_SERVICE } },
      }),
      new iam.PolicyStatement({
        sid: `ReadSeedRole${sid}`,
        actions: ['iam:GetRole', 'iam:ListRoleTags'],
        resources: [seed.role.roleArn],
      }),
    ];
  }

  private derivedRoleStatements(seed: SeedRole): iam.PolicyStatement[] {
    const sid = alphanumeric(seed.roleName);
    const derived = seed.derivedRoleArnPattern();
    const boundary = seed.permissionsBoundary.managedPolicyArn;
    const seedTag = `iam:ResourceTag/${SEED_TAG}`;
    // Owned = the seed's tag AND the seed's boundary. The tag alone is not proof:
    // TagRole cannot tell an untagged role that exists from one CreateRole is
    // creating (see TagNewDerivedRoles), but it can never set a boundary.
    // iam:PermissionsBoundary is supplied for UpdateAssumeRolePolicy,
    // DetachRolePolicy, DeleteRole and AttachRolePolicy (Service Authorization
    // Reference, https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
    const owned = { [seedTag]: seed.roleName, 'iam:PermissionsBoundary': boundary };
    return [
      new iam.PolicyStatement({
        sid: `CreateDerivedRoles${sid}`,
        actions: ['iam:CreateRole'],
        resources: [derived],
        conditions: {
          StringEquals: {
            'iam:PermissionsBoundary': boundary,
            [`aws:RequestTag/${SEED_TAG}`]: seed.roleName,
            [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...DERIVED_ROLE_TAG_KEYS] },
        },
      }),
      new iam.PolicyStatement({
        // CreateRole with tags is also authorized as TagRole on the new role
        // (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html), which has no tags
        // yet. IAM offers no key that tells that request from TagRole on an existing untagged
        // role, so this also lets the reconciler tag such a role as the seed's; that gains
        // nothing, because every write that needs ownership also needs the seed's boundary.
        // A role already tagged (for this seed or another) cannot be re-tagged here.
        sid: `TagNewDerivedRoles${sid}`,
        actions: ['iam:TagRole'],
        resources: [derived],
        conditions: {
          Null: { [seedTag]: 'true' },
          StringEquals: {
            [`aws:RequestTag/${SEED_TAG}`]: seed.roleName,
            [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...DERIVED_ROLE_TAG_KEYS] },
        },
      }),
      new iam.PolicyStatement({
        // On its own roles the reconciler only marks (and unmarks) emptiness.
        sid: `MarkDerivedRoles${sid}`,
        actions: ['iam:TagRole', 'iam:UntagRole'],
        resources: [derived],
        conditions: {
          StringEquals: { [seedTag]: seed.roleName },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [EMPTY_SINCE_TAG] },
        },
      }),
      new iam.PolicyStatement({
        sid: `ManageDerivedRoles${sid}`,
        actions: ['iam:UpdateAssumeRolePolicy', 'iam:DetachRolePolicy', 'iam:DeleteRole'],
        resources: [derived],
        conditions: { StringEquals: owned },
      }),
      new iam.PolicyStatement({
        sid: `AttachSeedPolicy${sid}`,
        actions: ['iam:AttachRolePolicy'],
        resources: [derived],
        conditions: {
          StringEquals: owned,
          ArnEquals: { 'iam:PolicyARN': [seed.accessPolicy.managedPolicyArn] },
        },
      }),
      new iam.PolicyStatement({
        sid: `ReadSeedAndDerivedRoles${sid}`,
        actions: ['iam:GetRole', 'iam:ListAttachedRolePolicies', 'iam:ListRoleTags'],
        resources: [seed.role.roleArn, derived],
      }),
      new iam.PolicyStatement({
        // IAM's ARN matching lets `*` match `/`, so `role/<path><seed>-*` also
        // matches `role/<path><seed>-x/<name>`, a role under a sub-path. Role names
        // cannot contain `/`, so this denies exactly those and leaves `<path>` itself.
        sid: `DenyDerivedRoleSubPaths${sid}`,
        effect: iam.Effect.DENY,
        actions: [...DERIVED_ROLE_WRITE_ACTIONS],
        resources: [`${derived}/*`],
      }),
    ];
  }
}

/** Every write the reconciler may make on a derived role. */
export const DERIVED_ROLE_WRITE_ACTIONS: readonly string[] = [
  'iam:CreateRole',
  'iam:TagRole',
  'iam:UntagRole',
  'iam:UpdateAssumeRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:DeleteRole',
];
