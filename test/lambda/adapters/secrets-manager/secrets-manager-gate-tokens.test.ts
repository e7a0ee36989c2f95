import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretsManagerGateTokens } from '../../../../lambda/adapters/secrets-manager/secrets-manager-gate-tokens';
import { MOTO_CLIENT_CONFIG, startMotoServer } from '../../../support/moto-server';
import type { MotoServer } from '../../../support/moto-server';

let moto: MotoServer;
let client: SecretsManagerClient;

beforeAll(async () => {
  moto = await startMotoServer();
  client = new SecretsManagerClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint });
}, 30_000);
afterAll(async () => {
  client.destroy();
  await moto.stop();
});

describe('SecretsManagerGateTokens (moto)', () => {
  test('a new secret gives its one token; a rotation by PutSecretValue gives the new one, then the old', async () => {
    const created = await client.send(
      new CreateSecretCommand({
        Name: 'gate-prod',
        SecretString: 'first-token-first-token-first-token',
      }),
    );
    const tokens = new SecretsManagerGateTokens(client);
    expect(await tokens.tokensOf(created.ARN ?? '')).toEqual([
      'first-token-first-token-first-token',
    ]);

    await client.send(
      new PutSecretValueCommand({
        SecretId: 'gate-prod',
        SecretString: 'second-token-second-token-second',
      }),
    );
    expect(await tokens.tokensOf('gate-prod')).toEqual([
      'second-token-second-token-second',
      'first-token-first-token-first-token',
    ]);
  });

  test('a missing secret is an error, not an empty list (the gate keeps its last good tokens)', async () => {
    await expect(new SecretsManagerGateTokens(client).tokensOf('no-such-secret')).rejects.toThrow();
  });
});
