import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** What an AWS SDK credential provider resolves to (the default chain's shape). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When temporary credentials stop working; a token signed with them dies then too. */
  readonly expiration?: Date;
}

export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface EksTokenInput {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly signingDate: Date;
}

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';

/** The header that binds the token to one cluster; the authenticator requires it to be signed. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/** What kubectl's `aws eks get-token` and aws-iam-authenticator send; EKS honours the token 15 minutes regardless. */
const PRESIGN_EXPIRES_SECONDS = 60;

/** The regional STS endpoint; China regions live under amazonaws.com.cn. */
export function stsHostname(region: string): string {
  return `sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/**
 * A bearer token for an EKS cluster's API server: a SigV4 presigned STS
 * `GetCallerIdentity` URL, with the cluster name signed in as the
 * `x-k8s-aws-id` header, base64url-encoded without padding behind
 * `k8s-aws-v1.`. EKS calls the URL to learn which IAM principal holds the
 * token, then maps it through the cluster's access entries.
 */
export async function eksToken(input: EksTokenInput): Promise<string> {
  const hostname = stsHostname(input.region);
  const signer = new SignatureV4({
    service: 'sts',
    region: input.region,
    credentials: {
      accessKeyId: input.credentials.accessKeyId,
      secretAccessKey: input.credentials.secretAccessKey,
      ...(input.credentials.sessionToken === undefined
        ? {}
        : { sessionToken: input.credentials.sessionToken }),
    },
    sha256: Sha256,
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: input.clusterName },
    }),
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: input.signingDate },
  );
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([key, value]) => {
      const values = Array.isArray(value) ? value : [value];
      return values.flatMap((v) =>
        typeof v === 'string' ? [`${encodeURIComponent(key)}=${encodeURIComponent(v)}`] : [],
      );
    })
    .sort()
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}
