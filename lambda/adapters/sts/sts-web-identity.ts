import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import type { STSClient } from '@aws-sdk/client-sts';
import type { WebIdentityOutcome, WebIdentityPort } from '../../ports/web-identity-port';

/**
 * IAM's answers while a new trust policy propagates (seconds, sometimes a
 * minute): `AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity`.
 * The token errors can also be transient right after the OIDC provider is created.
 */
const NOT_YET = new Set(['AccessDenied', 'InvalidIdentityToken', 'IDPCommunicationError']);

export class StsWebIdentity implements WebIdentityPort {
  constructor(private readonly client: STSClient) {}

  async assumeRoleWithWebIdentity(roleArn: string, token: string): Promise<WebIdentityOutcome> {
    try {
      // The shortest session STS grants; the credentials are never used.
      await this.client.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: 'kubestash-irsa-access-proof',
          WebIdentityToken: token,
          DurationSeconds: 900,
        }),
      );
      return { accepted: true };
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      if (typeof name === 'string' && NOT_YET.has(name)) {
        return { accepted: false, reason: `${name}: ${(error as Error).message}` };
      }
      throw error;
    }
  }
}
