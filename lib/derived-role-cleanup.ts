import { CustomResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { SEED_TAG } from '../lambda/ports/tag-keys';
import { projectFunction } from './lambda-bundle';
import { acknowledgeWildcardResources } from './nag-acknowledgments';
import type { SeedRole } from './seed-role';

export interface DerivedRoleCleanupProps {
  /** The seeds whose derived roles go when the stack goes. */
  readonly seeds: readonly SeedRole[];
}

/**
 * A custom resource that, when the stack is deleted, deletes every derived
 * role of its seeds (policies detached first), so `cdk destroy` leaves no role
 * behind. It is deleted before the seeds' policies (which derived roles still
 * hold) and after anything that depends on it, such as the reconciler.
 */
export class DerivedRoleCleanup extends Construct {
  readonly resource: CustomResource;
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: DerivedRoleCleanupProps) {
    super(scope, id);
    if (props.seeds.length === 0) throw new Error('DerivedRoleCleanup: give at least one seed');
    this.function = projectFunction(this, 'Function', {
      handlerFile: 'derived-role-cleanup',
      description: 'kubestash-irsa: deletes the derived roles when the stack is deleted',
    });

    const derived = props.seeds.map((s) => s.derivedRoleArnPattern());
    const statements = [
      new iam.PolicyStatement({
        sid: 'FindDerivedRoles',
        actions: ['iam:ListRoles'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'ReadDerivedRolePolicies',
        actions: ['iam:ListAttachedRolePolicies'],
        resources: derived,
      }),
      ...props.seeds.map(
        (seed) =>
          new iam.PolicyStatement({
            actions: ['iam:DetachRolePolicy', 'iam:DeleteRole'],
            resources: [seed.derivedRoleArnPattern()],
            // Tag and boundary, as for the reconciler: a tag alone can be put on a foreign role.
            conditions: {
              StringEquals: {
                [`iam:ResourceTag/${SEED_TAG}`]: seed.roleName,
                'iam:PermissionsBoundary': seed.permissionsBoundary.managedPolicyArn,
              },
            },
          }),
      ),
    ];
    statements.forEach((s) => this.function.addToRolePolicy(s));
    const role = this.function.role;
    if (role !== undefined) {
      acknowledgeWildcardResources(
        role,
        statements.slice(0, 1),
        'iam:ListRoles supports no resource-level permissions.',
        (k) => k === 'Resource::*',
      );
      acknowledgeWildcardResources(
        role,
        statements.slice(1),
        'Derived roles are named <seed>-<i> at run time; the wildcard is confined to the seed’s path and name prefix, and deletion also requires the seed tag and the seed’s permissions boundary.',
        (k) => k.endsWith('-*'),
      );
    }

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::DerivedRoleCleanup',
      properties: {
        Seeds: props.seeds.map((s) => ({ name: s.roleName, path: s.derivedRolePath })),
      },
    });
    for (const seed of props.seeds) {
      this.resource.node.addDependency(seed.accessPolicy, seed.permissionsBoundary);
    }
  }
}
