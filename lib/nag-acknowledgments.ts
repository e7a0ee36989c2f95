import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
// The same flattening cdk-nag applies, so the keys below are exactly its finding keys.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for each wildcard resource
 * of `statements` that `accept` approves, one exact finding key at a time
 * (e.g. `AwsSolutions-IAM5[Resource::<BucketArn>/*]`), so a wildcard added
 * later without a reason still fails the check.
 *
 * @returns the finding keys acknowledged
 */
export function acknowledgeWildcardResources(
  owner: IConstruct,
  statements: readonly iam.PolicyStatement[],
  reason: string,
  accept: (resourceKey: string) => boolean,
): string[] {
  const stack = Stack.of(owner);
  const keys = new Set<string>();
  for (const statement of statements) {
    const json = stack.resolve(statement.toStatementJson()) as {
      Effect?: string;
      Resource?: unknown;
    };
    if (json.Effect !== 'Allow') continue;
    const resources = Array.isArray(json.Resource) ? json.Resource : [json.Resource];
    for (const resource of resources) {
      if (resource === undefined) continue;
      const key = `Resource::${flattenCfnReference(resource)}`;
      if (key.includes('*') && accept(key)) keys.add(key);
    }
  }
  for (const key of keys) {
    Validations.of(owner).acknowledge({ id: `AwsSolutions-IAM5[${key}]`, reason });
  }
  return [...keys];
}
