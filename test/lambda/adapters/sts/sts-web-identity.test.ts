import { STSClient } from '@aws-sdk/client-sts';
import { StsWebIdentity } from '../../../../lambda/adapters/sts/sts-web-identity';
import { MOTO_ACCOUNT, MOTO_CLIENT_CONFIG, startMotoServer } from '../../../support/moto-server';

/** An STS client whose every call fails with `name`, as the SDK surfaces service errors. */
function failing(name: string, message: string): STSClient {
  return {
    send: async () => {
      throw Object.assign(new Error(message), { name });
    },
  } as unknown as STSClient;
}

describe('StsWebIdentity', () => {
  test('against moto: AssumeRoleWithWebIdentity answers, and the credentials are not kept', async () => {
    const moto = await startMotoServer();
    try {
      const sts = new StsWebIdentity(
        new STSClient({ ...MOTO_CLIENT_CONFIG, endpoint: moto.endpoint }),
      );
      // moto does not check the token against the trust policy (real IAM does): it accepts.
      const outcome = await sts.assumeRoleWithWebIdentity(
        `arn:aws:iam::${MOTO_ACCOUNT}:role/kubestash-irsa/KubestashRole-0`,
        'test-sa-token.demo.sa.1',
      );
      expect(outcome).toEqual({ accepted: true });
    } finally {
      await moto.stop();
    }
  });

  test.each(['AccessDenied', 'InvalidIdentityToken', 'IDPCommunicationError'])(
    '%s (what IAM says while a trust policy propagates) is "not yet", not an error',
    async (name) => {
      const sts = new StsWebIdentity(
        failing(name, 'Not authorized to perform sts:AssumeRoleWithWebIdentity'),
      );
      expect(await sts.assumeRoleWithWebIdentity('arn:aws:iam::1:role/r', 't')).toEqual({
        accepted: false,
        reason: `${name}: Not authorized to perform sts:AssumeRoleWithWebIdentity`,
      });
    },
  );

  test('anything else (throttling after retries, a bad ARN) is thrown for the pass to fail and retry', async () => {
    const sts = new StsWebIdentity(failing('ValidationError', 'RoleArn is invalid'));
    await expect(sts.assumeRoleWithWebIdentity('bad', 't')).rejects.toThrow('RoleArn is invalid');
  });
});
