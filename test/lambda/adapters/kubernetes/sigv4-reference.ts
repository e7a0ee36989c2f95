import { createHash, createHmac } from 'node:crypto';
import { EKS_TOKEN_PREFIX } from '../../../../lambda/adapters/kubernetes/eks-token';
import type { AwsCredentials } from '../../../../lambda/adapters/kubernetes/eks-token';

/** RFC 3986 encoding as SigV4 canonicalizes it. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** SigV4 for a presigned GET, written from the AWS spec, independent of @smithy/signature-v4. */
export function expectedSignature(
  url: URL,
  clusterName: string,
  region: string,
  creds: AwsCredentials,
): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    canonicalQuery,
    `host:${url.hostname}\nx-k8s-aws-id:${clusterName}\n`,
    'host;x-k8s-aws-id',
    createHash('sha256').update('').digest('hex'),
  ].join('\n');
  const amzDate = url.searchParams.get('X-Amz-Date') ?? '';
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/sts/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), region), 'sts'),
    'aws4_request',
  );
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/**
 * What EKS's authenticator checks before asking STS, done offline: the token
 * is a presigned GetCallerIdentity URL for the region, signed over the cluster
 * name with this secret key.
 */
export function verifiesAsEksToken(
  token: string,
  clusterName: string,
  region: string,
  creds: AwsCredentials,
): boolean {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return false;
  let url: URL;
  try {
    url = new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  const q = url.searchParams;
  return (
    url.hostname === `sts.${region}.amazonaws.com` &&
    q.get('Action') === 'GetCallerIdentity' &&
    q.get('X-Amz-SignedHeaders') === 'host;x-k8s-aws-id' &&
    q.get('X-Amz-Signature') === expectedSignature(url, clusterName, region, creds)
  );
}
