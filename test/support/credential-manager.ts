import { AttachRolePolicyCommand, CreateRoleCommand } from '@aws-sdk/client-iam';
import type { IAMClient } from '@aws-sdk/client-iam';

/**
 * What AppsCode's aws-credential-manager leaves in an account, for tests.
 *
 * Sources: the KubeStash IRSA guide (seed 000, §5.4: `creating role
 * KubestashRole-0 with OIDC …`, `attached policy …/KubestashPolicy to role
 * KubestashRole-0`, and the `aws iam get-role` output of its trust policy) and
 * the KubeStash v2026.4.27 release notes (seed 002, "Derived role trust policy
 * example"). Both print the document indented, as below; IAM stores it as
 * given. The guide's ManagerPolicy grants no iam:TagRole and CreateRole is
 * called without a Path, so the roles are untagged and at `/`.
 */
export function managerTrustPolicy(
  issuer: string,
  providerArn: string,
  subjects: readonly string[],
): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: providerArn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringLike: {
              [`${issuer}:sub`]: subjects,
              [`${issuer}:aud`]: 'sts.amazonaws.com',
            },
          },
        },
      ],
    },
    null,
    2,
  );
}

export interface ManagerRoleFixture {
  readonly name: string;
  readonly subjects: readonly string[];
}

/** Creates the manager's roles in moto, untagged at `/`, each with the seed's policy attached. */
export async function createManagerRoles(
  iam: IAMClient,
  options: {
    readonly issuer: string;
    readonly providerArn: string;
    readonly policyArn: string;
    readonly roles: readonly ManagerRoleFixture[];
  },
): Promise<void> {
  for (const role of options.roles) {
    await iam.send(
      new CreateRoleCommand({
        RoleName: role.name,
        AssumeRolePolicyDocument: managerTrustPolicy(
          options.issuer,
          options.providerArn,
          role.subjects,
        ),
      }),
    );
    await iam.send(
      new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: options.policyArn }),
    );
  }
}
