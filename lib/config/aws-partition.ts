import { RegionInfo } from 'aws-cdk-lib/region-info';

/**
 * AWS partitions: every Region is in exactly one, each partition has its own
 * IAM, and an ARN's second field names the partition its resource lives in.
 * A role in `aws-cn` can never trust an OIDC provider ARN written `arn:aws:…`:
 * STS compares the ARN as written and never matches it.
 * Source: https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
 * and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 */

/**
 * The partition of a region, from aws-cdk-lib's region table (which knows
 * `aws`, `aws-cn`, `aws-us-gov`, the ISO partitions and `aws-eusc`). A region
 * newer than the installed aws-cdk-lib falls back to the documented prefixes.
 */
export function partitionOfRegion(region: string): string {
  const known = RegionInfo.get(region).partition;
  if (known !== undefined) return known;
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The partition an ARN names (`arn:<partition>:…`), or undefined for text that is not an ARN. */
export function partitionOfArn(arn: string): string | undefined {
  const match = /^arn:([a-z-]+):/.exec(arn);
  return match?.[1];
}

/**
 * The region an EKS OIDC issuer names (`oidc.eks.<region>.amazonaws.com[.cn]/id/<ID>`),
 * or undefined for an issuer of another shape (self-managed clusters may use any host).
 * Source: https://docs.aws.amazon.com/eks/latest/userguide/enable-iam-roles-for-service-accounts.html
 */
export function regionOfEksIssuer(issuer: string): string | undefined {
  const match = /^(?:https:\/\/)?oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\//.exec(issuer);
  return match?.[1];
}
