import {
  KubernetesForbiddenError,
  KubernetesUnauthorizedError,
  KubernetesUnavailableError,
} from '../lambda/ports/kubernetes-port';
import { ClusterReadError, SeedRoleMissingError } from './status-read';

/** The IAM and EKS reads status makes, for messages that say what to grant. */
export const STATUS_AWS_ACTIONS = [
  'iam:GetAccountSummary',
  'iam:GetRole',
  'iam:ListAttachedRolePolicies',
  'iam:ListRoles',
  'iam:ListRoleTags',
  'eks:DescribeCluster',
] as const;

/** The Kubernetes reads status makes, in the seeds' allowed namespaces. */
export const STATUS_KUBERNETES_RULES = 'list serviceaccounts and list batch jobs';

/**
 * One line that says what went wrong and how to fix it, for an error that
 * ends `npm run status`. AWS SDK error names are the service's error codes
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html);
 * `CredentialsProviderError` is the SDK's when no credential source answers
 * (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html).
 */
export function explainStatusError(error: unknown, context: { readonly region: string }): string {
  if (error instanceof SeedRoleMissingError) {
    return `seed role ${error.seed} does not exist in the account your AWS credentials reach: deploy the stack (cdk deploy), or point AWS_PROFILE at the account it is deployed in`;
  }
  if (error instanceof ClusterReadError) {
    return explainCluster(error.cluster, error.cause, context.region);
  }
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'CredentialsProviderError') {
    return `no AWS credentials found (${message}): log in first, e.g. \`aws sso login --profile <profile>\` then \`export AWS_PROFILE=<profile>\`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`;
  }
  if (/^(ExpiredToken|ExpiredTokenException|RequestExpired)$/.test(name)) {
    return `your AWS credentials have expired (${name}): log in again, e.g. \`aws sso login --profile <profile>\``;
  }
  if (/^(InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch)$/.test(name)) {
    return `AWS does not accept your credentials (${name}: ${message}): check AWS_PROFILE or AWS_ACCESS_KEY_ID, or log in again`;
  }
  if (/^(AccessDenied|AccessDeniedException)$/.test(name)) {
    return `AWS refused a read (${message}): status needs ${STATUS_AWS_ACTIONS.join(', ')}; use credentials that have them (the AWS managed policy ReadOnlyAccess does)`;
  }
  return `status failed: ${name === '' || name === 'Error' ? '' : `${name}: `}${message}`;
}

function explainCluster(cluster: string, cause: unknown, region: string): string {
  if (cause instanceof KubernetesUnauthorizedError) {
    return `cluster ${cluster} does not accept your IAM identity (401): give it an EKS access entry (aws eks create-access-entry --cluster-name ${cluster} --principal-arn <your role ARN>) mapped to a group that may ${STATUS_KUBERNETES_RULES}`;
  }
  if (cause instanceof KubernetesForbiddenError) {
    return `cluster ${cluster} refuses a read (403: ${cause.message}): bind your identity's group to a Role that may ${STATUS_KUBERNETES_RULES} in the seeds' namespaces (the built-in ClusterRole "view" does)`;
  }
  if (cause instanceof KubernetesUnavailableError) {
    return `cluster ${cluster} did not answer (${cause.message}): if its API endpoint is private, run status from inside its VPC`;
  }
  const name = cause instanceof Error ? cause.name : '';
  if (name === 'ResourceNotFoundException') {
    return `cluster ${cluster} is not in region ${region}: check the clusters in the configuration and its region`;
  }
  const inner = explainStatusError(cause, { region });
  return `cluster ${cluster}: ${inner.replace(/^status failed: /, '')}`;
}
