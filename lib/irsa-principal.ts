import { CfnJson, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { STS_AUDIENCE } from './cluster-oidc-provider';

export type SubjectConditionOperator = 'StringLike' | 'StringEquals';

export interface IrsaPrincipalOptions {
  /** The cluster's IAM OIDC provider. */
  readonly provider: iam.IOidcProvider;
  /** The issuer without `https://`; may be a token. */
  readonly issuer: string;
  /** `system:serviceaccount:NS:NAME` subjects allowed to assume the role. */
  readonly subjects: readonly string[];
  /** @default 'StringLike' (as KubeStash's seed roles do) */
  readonly operator?: SubjectConditionOperator;
}

/**
 * A web-identity principal for EKS ServiceAccounts: `sub` limited to the given
 * subjects and `aud` to STS. Condition keys embed the issuer; when the issuer is
 * only known at deploy time, a `CfnJson` resolves the keys then (as aws-eks's
 * ServiceAccount does). A literal issuer needs no such custom resource.
 */
export function irsaPrincipal(
  scope: Construct,
  id: string,
  options: IrsaPrincipalOptions,
): iam.IPrincipal {
  if (options.subjects.length === 0) {
    throw new Error(`irsaPrincipal ${id}: give at least one system:serviceaccount:NS:NAME subject`);
  }
  const operator = options.operator ?? 'StringLike';
  const subjects = options.subjects.length === 1 ? options.subjects[0] : [...options.subjects];
  const keyed = {
    [`${options.issuer}:sub`]: subjects,
    [`${options.issuer}:aud`]: STS_AUDIENCE,
  };
  const conditions = Token.isUnresolved(options.issuer)
    ? new CfnJson(scope, id, { value: keyed })
    : keyed;
  return new iam.OpenIdConnectPrincipal(options.provider).withConditions({
    [operator]: conditions,
  });
}

/** The IRSA subject of a ServiceAccount. */
export function serviceAccountSubject(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}
