import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { AccessPolicyPreset } from './config/project-config';
import { suppressObjectWildcards } from './bucket-access-policy';

export interface DerivedRoleBoundaryProps {
  /** The seed whose derived roles the boundary limits. */
  readonly seedName: string;
  /** The most a derived role may ever do: the seed's access statements. */
  readonly statements: readonly iam.PolicyStatement[];
  /** The preset the statements come from (for the acknowledged wildcards). */
  readonly preset: AccessPolicyPreset;
}

/**
 * The permissions boundary every derived role is created with. The reconciler
 * may only create roles that carry it, so even a compromised reconciler cannot
 * mint a role that does more than the seed's bucket access.
 */
export class DerivedRoleBoundary extends Construct {
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: DerivedRoleBoundaryProps) {
    super(scope, id);
    if (props.statements.length === 0) {
      throw new Error(
        `DerivedRoleBoundary for ${props.seedName}: a boundary with no statements would deny everything`,
      );
    }
    // Copies: a statement belongs to one document once it is frozen at synthesis.
    const statements = props.statements.map((s) =>
      iam.PolicyStatement.fromJson(s.toStatementJson()),
    );
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Permissions boundary of the derived roles of ${props.seedName}`,
      statements,
    });
    suppressObjectWildcards(this, statements, props.preset);
  }
}
