import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { alphanumeric } from './config/project-config';
import { acknowledgeWildcardResources } from './nag-acknowledgments';
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
 * re-trust, attach the seed's own policy to, and delete only roles under the
 * seeds' derived-role paths whose names start with the seed's name, and only
 * with the seed's permissions boundary. It has neither iam:PutRolePolicy nor
 * iam:PassRole: it can never give a role more than the seed has.
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
    const derivedRoleStatements = props.seeds.flatMap((seed) => this.derivedRoleStatements(seed));
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
    [...derivedRoleStatements, ...global].forEach((s) => this.role.addToPolicy(s));

    acknowledgeWildcardResources(
      this.role,
      global,
      'iam:ListRoles and iam:GetAccountSummary support no resource-level permissions.',
      (key) => key === 'Resource::*',
    );
    acknowledgeWildcardResources(
      this.role,
      derivedRoleStatements,
      'Derived roles are created at run time as <seed>-<i>; the wildcard is confined to the dedicated path and the seed-name prefix, and every write also requires the seed tag or the boundary.',
      (key) => key.startsWith('Resource::arn:') && key.endsWith('-*'),
    );
  }

  private derivedRoleStatements(seed: SeedRole): iam.PolicyStatement[] {
    const sid = alphanumeric(seed.roleName);
    const derived = seed.derivedRoleArnPattern();
    const ownedBySeed = { StringEquals: { [`iam:ResourceTag/${SEED_TAG}`]: seed.roleName } };
    return [
      new iam.PolicyStatement({
        sid: `CreateDerivedRoles${sid}`,
        actions: ['iam:CreateRole'],
        resources: [derived],
        conditions: {
          StringEquals: {
            'iam:PermissionsBoundary': seed.permissionsBoundary.managedPolicyArn,
            [`aws:RequestTag/${SEED_TAG}`]: seed.roleName,
            [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...DERIVED_ROLE_TAG_KEYS] },
        },
      }),
      new iam.PolicyStatement({
        // CreateRole with tags is also authorized as TagRole; later tags mark emptiness.
        sid: `TagDerivedRoles${sid}`,
        actions: ['iam:TagRole'],
        resources: [derived],
        conditions: {
          StringEqualsIfExists: {
            [`aws:RequestTag/${SEED_TAG}`]: seed.roleName,
            [`aws:RequestTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...DERIVED_ROLE_TAG_KEYS] },
        },
      }),
      new iam.PolicyStatement({
        sid: `UntagDerivedRoles${sid}`,
        actions: ['iam:UntagRole'],
        resources: [derived],
        conditions: {
          ...ownedBySeed,
          'ForAllValues:StringEquals': { 'aws:TagKeys': [EMPTY_SINCE_TAG] },
        },
      }),
      new iam.PolicyStatement({
        sid: `ManageDerivedRoles${sid}`,
        actions: ['iam:UpdateAssumeRolePolicy', 'iam:DetachRolePolicy', 'iam:DeleteRole'],
        resources: [derived],
        conditions: ownedBySeed,
      }),
      new iam.PolicyStatement({
        sid: `AttachSeedPolicy${sid}`,
        actions: ['iam:AttachRolePolicy'],
        resources: [derived],
        conditions: {
          ...ownedBySeed,
          ArnEquals: { 'iam:PolicyARN': [seed.accessPolicy.managedPolicyArn] },
        },
      }),
      new iam.PolicyStatement({
        sid: `ReadSeedAndDerivedRoles${sid}`,
        actions: ['iam:GetRole', 'iam:ListAttachedRolePolicies'],
        resources: [seed.role.roleArn, derived],
      }),
    ];
  }
}
