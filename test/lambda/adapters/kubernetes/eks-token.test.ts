import {
  EKS_TOKEN_PREFIX,
  eksToken,
  stsHostname,
} from '../../../../lambda/adapters/kubernetes/eks-token';
import type { AwsCredentials } from '../../../../lambda/adapters/kubernetes/eks-token';
import { expectedSignature } from './sigv4-reference';

const CREDENTIALS: AwsCredentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SESSION: AwsCredentials = { ...CREDENTIALS, sessionToken: 'FwoGZXIvYXdzE+session/token==' };
const DATE = new Date('2026-05-06T12:55:49.550Z');

function decode(token: string): URL {
  expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no '=' padding
  return new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
}

describe('eksToken', () => {
  test('is k8s-aws-v1. + base64url of a presigned STS GetCallerIdentity URL', async () => {
    const token = await eksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      signingDate: DATE,
    });
    expect(token).not.toContain('=');
    const url = decode(token);
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20260506/eu-west-1/sts/aws4_request');
    expect(q.get('X-Amz-Date')).toBe('20260506T125549Z');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(q.has('X-Amz-Security-Token')).toBe(false);
    // The cluster name is signed as a header, not sent in the URL.
    expect(url.href).not.toContain('prod');
  });

  test('signature matches SigV4 computed independently, and is deterministic', async () => {
    const input = {
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials: SESSION,
      signingDate: DATE,
    };
    const token = await eksToken(input);
    expect(await eksToken(input)).toBe(token);
    const url = decode(token);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(SESSION.sessionToken);
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, 'prod', 'eu-west-1', SESSION),
    );
  });

  test('the signature binds the cluster name, the time and the key', async () => {
    const base = {
      clusterName: 'prod',
      region: 'us-east-1',
      credentials: CREDENTIALS,
      signingDate: DATE,
    };
    const signature = async (overrides: Partial<typeof base>) =>
      decode(await eksToken({ ...base, ...overrides })).searchParams.get('X-Amz-Signature');
    const reference = await signature({});
    expect(await signature({ clusterName: 'staging' })).not.toBe(reference);
    expect(await signature({ signingDate: new Date(DATE.getTime() + 1000) })).not.toBe(reference);
    expect(await signature({ credentials: { ...CREDENTIALS, secretAccessKey: 'other' } })).not.toBe(
      reference,
    );
    const url = decode(await eksToken({ ...base, clusterName: 'staging' }));
    expect(url.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(url, 'staging', 'us-east-1', CREDENTIALS),
    );
  });

  test('uses the regional STS endpoint, amazonaws.com.cn in China', () => {
    expect(stsHostname('us-east-1')).toBe('sts.us-east-1.amazonaws.com');
    expect(stsHostname('cn-north-1')).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});
