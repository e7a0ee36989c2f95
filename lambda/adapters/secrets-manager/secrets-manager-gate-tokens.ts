import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GateTokenPort } from '../../ports/gate-token-port';

/**
 * Staging labels Secrets Manager moves by itself: `PutSecretValue` makes the
 * new version AWSCURRENT and the replaced one AWSPREVIOUS, so a rotation is
 * one CLI call and the old token stays readable until the next one.
 * Source: https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html#term_version
 */
const STAGES = ['AWSCURRENT', 'AWSPREVIOUS'] as const;

/** The gate's tokens from Secrets Manager: one plain-string secret per cluster. */
export class SecretsManagerGateTokens implements GateTokenPort {
  constructor(private readonly client: SecretsManagerClient) {}

  async tokensOf(secretId: string): Promise<readonly string[]> {
    const tokens: string[] = [];
    for (const stage of STAGES) {
      try {
        const out = await this.client.send(
          new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }),
        );
        if (out.SecretString !== undefined) tokens.push(out.SecretString.trim());
      } catch (error) {
        // A secret never rotated has no AWSPREVIOUS version: that is not a failure.
        if (
          stage === 'AWSPREVIOUS' &&
          (error as { name?: unknown }).name === 'ResourceNotFoundException'
        )
          continue;
        throw error;
      }
    }
    return tokens;
  }
}
